"""The embedded PostgreSQL of the one-command setup, run from the pgserver wheel."""

from __future__ import annotations

import logging
import os
import stat
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Run as root, pgserver runs postgres as a `pgserver` account and, so that this account can
# reach the data, adds read and traverse permission for everyone on every directory from
# the pgdata up to / — which would open the data dir (every volume, the master key) to all
# local accounts. The running server no longer needs that (postgres works relative to its
# data directory, where it already is), so once it answers the data dir is made 0700 again
# (opened only while pgserver stops the server) and the directories above it lose the read
# permission pgserver added. They keep the traverse permission: another embedded server
# below the same directories may be starting at this very moment and needs it.
_TRAVERSE = stat.S_IXGRP | stat.S_IXOTH


class EmbeddedPostgres:
    """A private PostgreSQL in ``<data-dir>/postgres``, reachable only over its Unix socket."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "postgres"
        self._server: Any = None
        self._private: dict[Path, int] = {}  # the modes we keep, while the server runs
        self._opened: dict[Path, int] = {}  # the modes pgserver needs to start and stop it

    def start(self) -> str:
        pgserver = _import_pgserver()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)
        self.pgdata.mkdir(exist_ok=True, mode=0o700)
        before = _modes(self.data_dir)
        log.info("starting embedded PostgreSQL in %s", self.pgdata)
        # cleanup_mode=None leaves the data in place when we stop.
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        self._opened = _modes(self.data_dir)
        self._private = {p: mode | (self._opened[p] & _TRAVERSE) for p, mode in before.items()}
        self._private[self.data_dir] = 0o700
        _apply(self._private)
        self._private_socket_dir()
        return str(self._server.get_uri())

    def _private_socket_dir(self) -> None:
        """pgserver makes a socket directory outside pgdata (when the path is too long for a
        socket) mode 0777: anyone could then connect, with trust authentication."""
        socket_dir = self._server.get_postmaster_info().socket_dir
        if socket_dir is None or Path(socket_dir) == self.pgdata:
            return
        owner = os.stat(self.pgdata)
        os.chown(socket_dir, owner.st_uid, owner.st_gid)
        os.chmod(socket_dir, 0o700)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            _apply(self._opened)
            try:
                server.cleanup()
            finally:
                _apply(self._private)


def _modes(directory: Path) -> dict[Path, int]:
    """The permission bits of ``directory`` and of every directory above it."""
    return {p: stat.S_IMODE(os.stat(p).st_mode) for p in (directory, *directory.parents)}


def _apply(modes: dict[Path, int]) -> None:
    for path, mode in modes.items():
        try:
            if stat.S_IMODE(os.stat(path).st_mode) != mode:
                os.chmod(path, mode)
        except OSError as exc:  # a directory we may not change: say so, keep going
            log.warning("could not restore the mode of %s: %s", path, exc)


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
