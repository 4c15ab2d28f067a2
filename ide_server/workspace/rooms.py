"""The collaborative room of one file: what wins between the Y store and the disk.

jupyter-server-ydoc's room reloads from disk whenever the two differ, which dropped text
typed just before a pod crash (it was in the store, not yet saved), and diffs texts with
a quadratic algorithm on the event loop. This room keeps a fingerprint of the text last
saved to (or loaded from) disk in the document's own state, so it is stored with the
edits, and decides with it:

- disk unchanged since the last save, store changed: the store wins and is saved;
- store unchanged since the last save, disk changed: the disk wins (a reload);
- both changed: both are kept. The room keeps the edits, the file keeps its content,
  nothing is saved over it, and the document's state carries a notice
  (:data:`CONFLICT_KEY`) until someone saves explicitly (keeping the edits) or makes the
  text equal to the file's (taking the disk's).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jupyter_server_ydoc.rooms import DocumentRoom
from jupyter_server_ydoc.utils import OutOfBandChanges
from pycrdt import Text
from pycrdt.store import YDocNotFound

from .limits import too_large_message
from .missing import is_not_found
from .textdiff import apply_edits, text_edits

# Keys of the document's state map (besides jupyter-server-ydoc's dirty/hash/path).
SAVED_KEY = "ide_saved"  # sha256 of the text last saved to or loaded from disk
CONFLICT_KEY = "ide_conflict"  # {"disk_sha", "message", "since"} while both changed
TOO_LARGE_KEY = "ide_too_large"  # {"message", "size", "limit"} while a save is refused
MISSING_KEY = "ide_missing"  # {"reason": "branch" | "deleted", "message"} while the file is gone

# What a room asks about its vanished file: {"reason", "message"} (see .missing).
DescribeMissing = Callable[[str], Awaitable[dict[str, str]]]


class SaveFailed(Exception):
    """An explicit save that wrote nothing (the file is gone, too large, or an error)."""


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DocumentTooLarge(Exception):
    """A file too large to be opened in a room (the message says so)."""


class DurableRoom(DocumentRoom):
    """A document room that never drops unsaved edits and reloads in linear time."""

    def __init__(
        self, *args: Any, limit: int, describe_missing: DescribeMissing, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._limit = limit
        self._describe_missing = describe_missing

    async def _mark_missing(self) -> None:
        """The file is gone: say so in the document's state (its text stays, unsaved)."""
        path = self._file.path
        detail = await self._describe_missing(path)
        self.log.warning("room %s: %s", self._room_id, detail["message"])
        async with self._update_lock:
            self._set_state(MISSING_KEY, detail)
            self._document.dirty = True

    @property
    def _source(self) -> Text:
        return self.ydoc.get("source", type=Text)

    def _state(self, key: str) -> Any:
        return self._document.ystate.get(key)

    def _set_state(self, key: str, value: Any) -> None:
        if value is None:
            if key in self._document.ystate:
                del self._document.ystate[key]
        elif self._document.ystate.get(key) != value:
            self._document.ystate[key] = value

    async def initialize(self) -> None:
        if self.ready:  # type: ignore[has-type]
            return
        model = await self._file.load_content(self._file_format, self._file_type)
        disk: str = model["content"]
        size = len(disk.encode("utf-8"))
        if size > self._limit:
            self.log.warning(
                "room %s: %s", self._room_id, too_large_message(self._file.path, size, self._limit)
            )
            # Short: the room closes with it as its reason, and a close reason has 123 bytes.
            raise DocumentTooLarge(
                f"{size // 1024} KiB, larger than the {self._limit // 1024} KiB limit"
            )
        save_now = False
        async with self._update_lock:
            if not await self._load_from_store():
                await self._apply_deterministic_source_content(disk)
                self._set_state(SAVED_KEY, fingerprint(disk))
            else:
                # The file was just read: a "gone" notice stored with the text is stale
                # (the room closed while its file was away, and it is back).
                self._set_state(MISSING_KEY, None)
                save_now = await self._reconcile_with_disk(disk, opening=True)
            if self.ystore is not None:
                await self.ystore.encode_state_as_update(self.ydoc)
            self.ready = True
        self.log.info("Room %s initialized", self._room_id)
        if save_now:
            self._saving_document = asyncio.create_task(
                self._maybe_save_document(self._saving_document, save_now=True)  # type: ignore[has-type]
            )

    async def _load_from_store(self) -> bool:
        if self.ystore is None:
            return False
        async with self.ystore.start_lock:
            if not self.ystore.started.is_set():
                self.create_task(self.ystore.start())
                await self.ystore.started.wait()
        try:
            await self.ystore.apply_updates(self.ydoc)
        except YDocNotFound:
            return False
        return True

    async def _reconcile_with_disk(self, disk: str, *, opening: bool = False) -> bool:
        """Settle the room's text against the file's; True if the room's must be saved.

        Called with the update lock held.
        """
        text = self._document.get()
        if text == disk:
            self._set_state(SAVED_KEY, fingerprint(disk))
            self._set_state(CONFLICT_KEY, None)
            self._document.dirty = False
            return False
        saved = self._state(SAVED_KEY)
        disk_sha = fingerprint(disk)
        if opening and saved == disk_sha:
            self.log.info("Room %s: unsaved edits in the store win over the disk", self._room_id)
            self._document.dirty = True
            return True
        if saved == fingerprint(text):
            await self._replace_text(disk)
            self._set_state(SAVED_KEY, disk_sha)
            self._set_state(CONFLICT_KEY, None)
            self._document.dirty = False
            return False
        self.log.warning("Room %s: edits and the file on disk both changed", self._room_id)
        self._set_state(
            CONFLICT_KEY,
            {
                "disk_sha": disk_sha,
                "since": time.time(),
                "message": (
                    f"{self._file.path} changed on disk while this editor had unsaved edits. "
                    "Both are kept: save to keep your edits, or take the file's version."
                ),
            },
        )
        self._document.dirty = True
        return False

    async def _replace_text(self, new: str) -> None:
        """Make the room's text ``new`` in a few edits, diffed off the event loop."""
        for _ in range(3):
            old = self._document.get()
            edits = await asyncio.to_thread(text_edits, old, new)
            if self._document.get() == old:  # nobody typed while the diff ran
                apply_edits(self.ydoc, self._source, edits)
                return
        apply_edits(self.ydoc, self._source, text_edits(self._document.get(), new))

    async def _on_outofband_change(self) -> None:
        try:
            model = await self._file.load_content(self._file_format, self._file_type)
        except Exception as e:
            if is_not_found(e):
                await self._mark_missing()
                return
            self.log.error("Error loading content from file: %s", self._file.path, exc_info=e)
            return
        async with self._update_lock:
            self._set_state(MISSING_KEY, None)
            await self._reconcile_with_disk(model["content"])

    def _save_to_disc(self) -> asyncio.Future[None] | None:
        """An explicit save (Ctrl/Cmd-S) whose task fails when nothing was written."""
        if self._update_lock.locked():
            return None
        task = asyncio.create_task(
            self._maybe_save_document(self._saving_document, save_now=True)  # type: ignore[has-type]
        )
        self._saving_document = task

        async def outcome() -> None:
            try:
                saved = await task
            except asyncio.CancelledError:  # a newer save replaced it: that one answers
                return
            if saved is False:
                raise SaveFailed(self._file.path)

        return asyncio.ensure_future(outcome())

    async def _maybe_save_document(
        self, saving_document: asyncio.Task | None, save_now: bool = False
    ) -> bool | None:
        """Save after the delay (or now); False when the save failed, None if it did not run."""
        if self._save_delay is None and not save_now:
            return None
        if saving_document is not None and not saving_document.done():
            saving_document.cancel()
        try:
            if not save_now and self._save_delay is not None:
                await asyncio.sleep(self._save_delay)
            return await self._save(save_now)
        except asyncio.CancelledError:
            return None
        except OutOfBandChanges:
            await self._on_outofband_change()
            return False
        except Exception as e:
            if is_not_found(e):
                await self._mark_missing()
            else:
                self.log.error("Error saving file: %s", self._file.path, exc_info=e)
            return False

    async def _save(self, explicit: bool) -> bool:
        content = self._document.get()
        conflict = self._state(CONFLICT_KEY)
        if conflict and not explicit:
            if fingerprint(content) == conflict.get("disk_sha"):  # the disk's version taken
                async with self._update_lock:
                    self._set_state(CONFLICT_KEY, None)
                    self._set_state(SAVED_KEY, conflict["disk_sha"])
                    self._document.dirty = False
            return True  # the user chooses; an autosave must not decide for them
        size = len(content.encode("utf-8"))
        if size > self._limit:
            message = too_large_message(self._file.path, size, self._limit) + "; not saved"
            self._set_state(TOO_LARGE_KEY, {"message": message, "size": size, "limit": self._limit})
            return False
        saved = await self._file.maybe_save_content(
            {"format": self._file_format, "type": self._file_type, "content": content}
        )
        if saved:
            async with self._update_lock:
                self._document.hash = saved["hash"]
                self._set_state(SAVED_KEY, fingerprint(content))
                self._set_state(CONFLICT_KEY, None)
                self._set_state(TOO_LARGE_KEY, None)
                self._document.dirty = self._document.get() != content
        return True
