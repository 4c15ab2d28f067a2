"""The pod's collaboration extension: jupyter-server-ydoc with our rooms and size limit.

Loaded instead of ``jupyter_server_ydoc`` itself (see :mod:`.launch`): the same routes and
settings (``c.YDocExtension.*`` applies to this subclass), but the room of a file is a
:class:`~.rooms.DurableRoom`, and a room refuses to grow past the size a document can have
to be opened again (:mod:`.limits`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server_ydoc.app import YDocExtension
from jupyter_server_ydoc.handlers import YDocWebSocketHandler
from jupyter_server_ydoc.utils import decode_file_path, room_id_from_encoded_path
from jupyter_server_ydoc.websocketserver import exception_logger
from pycrdt import Decoder, Doc, Text

from .config import PodConfig
from .limits import document_limit, too_large_message
from .missing import WatchfulFileLoaderMapping, describe_missing
from .rooms import DurableRoom

_SYNC = 0
_SYNC_STEP2 = 1
_SYNC_UPDATE = 2
# Close code when a client's edit would make the document too large to reopen.
CLOSE_TOO_LARGE = 4413


class DurableRoomHandler(YDocWebSocketHandler):
    """The room socket of jupyter-server-ydoc, creating :class:`DurableRoom` rooms."""

    @property
    def _pod(self) -> PodConfig:
        return self.settings["ide_workspace"].config

    @property
    def max_message_size(self) -> int:  # type: ignore[override]
        return self._pod.max_message_bytes

    async def prepare(self) -> None:
        # The parent uses a room that already exists; make sure the one it finds is ours.
        room_id = room_id_from_encoded_path(self.request.path)
        if room_id.count(":") >= 2:
            server = self._websocket_server
            if not server.started.is_set():
                self.create_task(server.start())
                await server.started.wait()
            async with self._room_lock(room_id):
                if not server.room_exists(room_id):
                    room = self._new_room(room_id)
                    await server.start_room(room)
                    server.add_room(room_id, room)
        await super().prepare()

    def _new_room(self, room_id: str) -> DurableRoom:
        file_format, file_type, file_id = decode_file_path(room_id)
        return DurableRoom(
            room_id,
            file_format,
            file_type,
            self._file_loaders[file_id],
            self.event_logger,
            self._ystore_class(path=f".{file_type}:{file_id}.y", log=self.log),
            self.log,
            exception_handler=exception_logger,
            save_delay=self._document_save_delay,
            limit=document_limit(self._pod),
            describe_missing=self._describe_missing,
        )

    async def _describe_missing(self, path: str) -> dict[str, str]:
        return await asyncio.to_thread(describe_missing, self._pod.root, path)

    async def on_message(self, message: Any) -> None:
        if isinstance(self.room, DurableRoom) and self._would_grow_too_large(message):
            return
        await super().on_message(message)

    def _would_grow_too_large(self, message: Any) -> bool:
        """Refuse an edit that would take the document past the limit, and say so.

        An update carries the text it inserts, so the document grows by at most the
        message's size: a cheap bound for the common case. Only past that bound (a large
        paste, a rewrite near the limit) is the update tried on a copy of the document.
        """
        if not isinstance(message, bytes) or len(message) < 2 or message[0] != _SYNC:
            return False
        if message[1] not in (_SYNC_STEP2, _SYNC_UPDATE):
            return False
        limit = document_limit(self._pod)
        size = len(self.room.ydoc.get("source", type=Text))
        if size + len(message) <= limit:
            return False
        size = _size_after(self.room.ydoc, message)
        if size <= limit:
            return False
        path = self._file_loaders[decode_file_path(self._room_id)[2]].path
        reason = too_large_message(path, size, limit) + "; the edit was refused"
        self.log.warning("room %s: %s", self._room_id, reason)
        # A close reason has at most 123 bytes: the short form; the log has the rest.
        self.close(CLOSE_TOO_LARGE, f"edit refused: the file would pass {limit // 1024} KiB")
        return True


def _size_after(doc: Doc, message: bytes) -> int:
    """The text's size in bytes once the update in sync ``message`` is applied (on a copy)."""
    trial: Doc = Doc()
    trial.apply_update(doc.get_update())
    trial.apply_update(Decoder(message[2:]).read_message() or b"")
    return len(trial.get("source", type=Text))


class DurableYDocExtension(YDocExtension):
    def initialize_handlers(self) -> None:
        super().initialize_handlers()
        # A loader whose rooms hear of a vanished file (see .missing), in every handler.
        self.file_loaders = WatchfulFileLoaderMapping(
            self.serverapp.web_app.settings,
            self.log,
            self.file_poll_interval,
            file_stop_poll_on_errors_after=self.file_stop_poll_on_errors_after,
        )
        for route in self.handlers:  # type: ignore[has-type]
            if len(route) > 2 and isinstance(route[2], dict) and "file_loaders" in route[2]:
                route[2]["file_loaders"] = self.file_loaders
        self.handlers = [
            (route[0], DurableRoomHandler, *route[2:])
            if len(route) > 1 and route[1] is YDocWebSocketHandler
            else route
            for route in self.handlers  # type: ignore[has-type]
        ]


async def reload_open_documents(serverapp: Any) -> None:
    """Have every open collaborative document check its file now (it reloads if changed).

    jupyter-server-ydoc checks files on a timer; between a rewrite by git and that check,
    typing would be overwritten by the reload. Its file loaders are not public, hence the
    defensive lookups: if they move, documents still reload at the next poll.
    """
    for apps in serverapp.extension_manager.extension_apps.values():
        for app in apps:
            if not isinstance(app, YDocExtension):
                continue
            mapping = getattr(app, "file_loaders", None)
            loaders = getattr(mapping, "_FileLoaderMapping__dict", {})
            for loader in list(loaders.values()):
                await loader.maybe_notify()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "ide_server.workspace.collab", "app": DurableYDocExtension}]
