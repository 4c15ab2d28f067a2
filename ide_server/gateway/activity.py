"""Activity of proxied sessions, recorded without ever holding up the proxy.

Recording that a session was used is a database write; the proxy must not wait for it,
and a database outage must not close a socket or drop a frame because of it. The proxy
only notes the time (:meth:`ActivityBuffer.note`, no I/O); a background task writes the
latest time per session, at most once per interval, and keeps what it could not write
until the database answers again. A session's activity is thus late during an outage,
never lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from session_manager.periodic import Periodic

from ..db import DatabaseUnavailable

log = logging.getLogger(__name__)

Touch = Callable[[str, datetime], Awaitable[None]]


class ActivityBuffer:
    """Latest activity per session, written by :meth:`start`'s task.

    A session's activity is written within ``tick`` seconds of its first traffic, then at
    most once per ``interval``; what an outage kept from being written goes at the next
    tick after the database answers.
    """

    def __init__(self, touch: Touch, *, interval: float = 30.0, tick: float = 1.0) -> None:
        self._touch = touch
        self._interval = interval
        self._tick = tick
        self._pending: dict[str, datetime] = {}
        self._written: dict[str, float] = {}  # monotonic time of each session's last write
        self._loop = Periodic("recording session activity", self._flush_due, tick)

    def note(self, session_id: str) -> None:
        """The session saw traffic now. Never blocks, never raises."""
        self._pending[session_id] = datetime.now(UTC)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        """Stop the task and write what is pending once more; safe to call twice."""
        if self._loop.running:
            await self._loop.stop()
            await self.flush(due_only=False)

    async def flush(self, *, due_only: bool = True) -> bool:
        """Write the pending times (those due, or all); False if the database did not answer.

        What could not be written stays pending.
        """
        now = time.monotonic()
        for session_id, at in list(self._pending.items()):
            if due_only and now - self._written.get(session_id, -self._interval) < self._interval:
                continue
            try:
                await self._touch(session_id, at)
            except DatabaseUnavailable:
                return False
            except Exception:  # one bad write must not keep the others from being written
                log.warning("recording activity of session %s failed", session_id, exc_info=True)
            self._written[session_id] = now
            if self._pending.get(session_id) == at:  # not noted again meanwhile
                del self._pending[session_id]
        return True

    async def _flush_due(self) -> None:
        await self.flush()
