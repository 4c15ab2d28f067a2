"""Jupyter's file contents manager, confined to the volume the way ``fs/*`` is.

Collaborative rooms load and save files through the contents manager. Jupyter's own check
compares absolute paths, not real ones, so a symlink committed to the project
(``models/x.sql -> ../../../secret.key``) would let a room read or write outside the volume.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

from .paths import confine
from .rpc import RpcError


class VolumeContentsManager(AsyncLargeFileManager):
    def _get_os_path(self, path: Any) -> Any:
        os_path = super()._get_os_path(path)
        root = Path(os.path.realpath(self.root_dir))
        try:
            confine(root, Path(os_path), shown_as=str(path))
        except RpcError as exc:
            raise HTTPError(404, exc.message) from None
        return os_path
