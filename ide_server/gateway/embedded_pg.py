"""The embedded PostgreSQL of the one-command setup, run from the pgserver wheel."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A private PostgreSQL in ``<data-dir>/postgres``, reachable only over its Unix socket."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        pgserver = _import_pgserver()
        self.pgdata.mkdir(parents=True, exist_ok=True, mode=0o700)
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        # cleanup_mode=None leaves the data in place when we stop.
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()


def _import_pgserver() -> Any:
    """Imports pgserver late (only the embedded setup needs it), without its import warning.

    Without ``XDG_RUNTIME_DIR`` (a server, a container) pgserver's platformdirs warns that it
    keeps its lock file in ``/tmp/runtime-<uid>`` instead, which is fine here: that goes to
    the DEBUG log, any other warning to the log as a warning.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import pgserver
    for warning in caught:
        level = logging.DEBUG if "XDG_RUNTIME_DIR" in str(warning.message) else logging.WARNING
        log.log(level, "pgserver: %s", warning.message)
    return pgserver
