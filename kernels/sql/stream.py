"""A preview's warehouse events, carried from the worker thread to the kernel's event loop
in batches.

Each batch becomes one IOPub message, and each message costs both the kernel and the pod a
serialisation, a signature and a ZeroMQ hop: more than a small result's rows do. So events
wait for company and go out together when the result is complete, when they reach
:data:`BATCH_BYTES` of rows, or :data:`FLUSH_AFTER` after the first of them arrived,
whichever comes first (``Done`` goes at once). A 500-row preview then takes one message;
a slow query's first rows still show within that short delay, however long the warehouse
takes for the next ones, because the delay runs on the event loop's clock, not between two
driver calls.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from kernels.warehouses import Done, Event, Rows
from kernels.warehouses.base import BATCH_BYTES, merge_rows

from .worker import WarehouseWorker

FLUSH_AFTER = 0.010  # seconds an event may wait for the rest of its batch

_END = object()


class _Batcher:
    """Events the worker adds, flushed to the loop by size, by the end or by time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self.ready: asyncio.Queue[list[Any]] = asyncio.Queue()

    def add(self, item: Any, *, last: bool = False) -> None:
        """Called on the worker thread: one event, or what ended the run (``last``)."""
        with self._lock:
            first = not self._pending
            self._pending.append(item)
            if isinstance(item, Rows):
                self._bytes += item.json_bytes
            # Done goes at once: the warehouse may still be winding down (a ROLLBACK) after it.
            full = last or isinstance(item, Done) or self._bytes >= BATCH_BYTES
        # One wake-up of the loop per batch, plus one to start its timer.
        if full:
            self._loop.call_soon_threadsafe(self._flush)
        elif first:
            self._loop.call_soon_threadsafe(self._arm)

    def _arm(self) -> None:
        # A timer that is already set flushes these events too, and sooner.
        if self._timer is None:
            self._timer = self._loop.call_later(FLUSH_AFTER, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            items, self._pending, self._bytes = self._pending, [], 0
        if items:
            self.ready.put_nowait(items)


def _messages(events: list[Event]) -> Iterator[list[Event]]:
    """``events`` in groups of at most about BATCH_BYTES of rows: the worker may have read
    far more than that by the time the loop took its batch."""
    group: list[Event] = []
    size = 0
    for event in events:
        grow = event.json_bytes if isinstance(event, Rows) else 0
        if group and grow and size + grow > BATCH_BYTES:
            yield group
            group, size = [], 0
        group.append(event)
        size += grow
    if group:
        yield group


async def stream_events(
    worker: WarehouseWorker, events: Iterator[Event]
) -> AsyncIterator[list[Event]]:
    """``events``, produced on ``worker``'s thread, in batches (rows merged, see
    :func:`merge_rows`), one per message to send; an exception the warehouse raised is
    raised here, after every event that came before it."""
    batcher = _Batcher(asyncio.get_running_loop())

    def run() -> None:
        try:
            for event in events:
                batcher.add(event)
        except BaseException as exc:
            batcher.add(exc, last=True)
        else:
            batcher.add(_END, last=True)

    worker.submit(run)
    while True:
        items = await batcher.ready.get()
        ready = [i for i in items if i is not _END and not isinstance(i, BaseException)]
        for message in _messages(merge_rows(ready)):
            yield message
        for item in items:
            if isinstance(item, BaseException):
                raise item
            if item is _END:
                return
