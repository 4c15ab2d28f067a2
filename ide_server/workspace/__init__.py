"""The session pod: a jupyter-server extension rooted at the user's volume."""

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .extension import IdeExtension  # the pod's server only: jupyter-server is heavy

    return [{"module": "ide_server.workspace.extension", "app": IdeExtension}]
