"""Jupyter's file contents manager, confined to the volume and writing durably.

Collaborative rooms load and save files through the contents manager. Jupyter's own check
compares absolute paths, not real ones, so a symlink committed to the project
(``models/x.sql -> ../../../secret.key``) would let a room read or write outside the volume.

Jupyter's ``atomic_writing`` copies the file to a backup and then rewrites it in place: a
crash during the write leaves a torn file. Every write here goes through the project's one
durable path instead (:mod:`ide_server.durable`): a temporary file renamed over the target.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

from ..durable import replacing, write_atomically
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

    async def _save_file(self, os_path: str, content: Any, format: Any) -> None:
        if format != "text":
            # Base64 and bad formats: Jupyter decodes and refuses them, then writes through
            # ``atomic_writing`` below.
            await super()._save_file(os_path, content, format)
            return
        data = content.encode("utf-8")
        # Off the event loop: a multi-megabyte write and its fsyncs must not stall the pod.
        await asyncio.to_thread(write_atomically, Path(os_path), data)

    @contextlib.contextmanager
    def atomic_writing(self, os_path: str, *args: Any, **kwargs: Any) -> Iterator[IO[Any]]:
        text = kwargs.get("text", True)
        encoding = kwargs.get("encoding", "utf-8")
        with self.perm_to_403(os_path), replacing(Path(os_path), text=text, encoding=encoding) as f:
            yield f
