"""The session pod: a jupyter-server extension rooted at the user's volume."""

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "ide_server.workspace.extension"}]
