"""Wake-ups for the followers of a session row when this process changes it.

The row in PostgreSQL stays the source of truth, and a follower on another replica still
polls it. A follower on the replica that wrote the change (the usual case: the replica
that starts a pod also serves the browser's event stream) is woken at once instead of at
its next poll, so a start is never slower than the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator


class LocalChanges:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Event]] = {}

    def notify(self, session_ids: Iterable[str]) -> None:
        for session_id in session_ids:
            for event in self._watchers.get(session_id, ()):
                event.set()

    @contextlib.contextmanager
    def watch(self, session_id: str) -> Iterator[asyncio.Event]:
        """An event set by every change to ``session_id`` made here while the block runs.

        The follower clears it before reading the row, so a change made during the read
        leaves it set and the next wait returns at once: no change is missed.
        """
        event = asyncio.Event()
        watchers = self._watchers.setdefault(session_id, set())
        watchers.add(event)
        try:
            yield event
        finally:
            watchers.discard(event)
            if not watchers:
                del self._watchers[session_id]

    @staticmethod
    async def wait(event: asyncio.Event, seconds: float) -> None:
        """Until ``event`` is set or ``seconds`` passed; then it is cleared."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()
