"""A preview's warehouse events, carried from the worker thread to the kernel's loop in
batches.

Each batch becomes one IOPub message, and each message costs both the kernel and the pod a
serialisation, a signature and a ZeroMQ hop: more than a small result's rows do. So events
wait for company and go out together when the result is complete, when they reach
:data:`BATCH_BYTES` of rows, or :data:`FLUSH_AFTER` after the first of them arrived,
whichever comes first (``Done`` goes at once). A 500-row preview then takes one message;
a slow query's first rows still show within that short delay, however long the warehouse
takes for the next ones, because the delay runs on the loop's clock, not between two
driver calls.

The worker thread only appends and, when a batch is due or its clock must start, wakes the
loop (``wake``, a write to a pipe the loop polls): one wake-up per batch, plus one to start
its clock. The loop takes what is due (:meth:`Batcher.take`) and sends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kernels.warehouses import Event, Rows
from kernels.warehouses.base import BATCH_BYTES, merge_rows

FLUSH_AFTER = 0.010  # seconds an event may wait for the rest of its batch


class Batcher:
    """Events the worker adds and the loop takes, by size, by the end or by time.

    What the worker adds last (``last=True``) is the run's outcome, which the loop gets as
    ``end`` from :meth:`take`: any object but ``None``.
    """

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._bytes = 0
        self._first_at: float | None = None  # when the oldest pending event arrived
        self._full = False
        self._end: Any = None

    def add(self, event: Event, *, urgent: bool = False) -> None:
        """Called on the worker thread: one event; ``urgent`` sends it without waiting."""
        with self._lock:
            first = self._first_at is None
            if first:
                self._first_at = time.monotonic()
            self._pending.append(event)
            if isinstance(event, Rows):
                self._bytes += event.json_bytes
            due = urgent or self._bytes >= BATCH_BYTES
            self._full = self._full or due
        if due or first:
            self._wake()

    def finish(self, end: Any) -> None:
        """Called on the worker thread: the run is over, with ``end`` as its outcome."""
        with self._lock:
            self._end = end
            self._full = True
        self._wake()

    def timeout(self) -> float | None:
        """Seconds until the pending events are due; None when nothing is pending."""
        with self._lock:
            if self._full:
                return 0.0
            if self._first_at is None:
                return None
            return max(0.0, self._first_at + FLUSH_AFTER - time.monotonic())

    def take(self) -> tuple[list[list[Event]], Any]:
        """The messages due now (rows merged, each at most about BATCH_BYTES of rows) and
        the run's outcome once it ended (else None); nothing when nothing is due yet."""
        with self._lock:
            due = self._full or (
                self._first_at is not None and time.monotonic() >= self._first_at + FLUSH_AFTER
            )
            if not due:
                return [], None
            events, self._pending, self._bytes = self._pending, [], 0
            self._first_at, self._full = None, False
            end, self._end = self._end, None
        return list(_messages(merge_rows(events))), end


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
