"""A round of work repeated in a background task of its own, until stopped.

The gateway's background services (the reaper, socket revalidation, the single sign-on
refresh, the invocation collector, the activity writer, the loop-lag sampler) are each one
of these: what they share is here once, so starting twice, stopping twice, stopping before
the first round, and a round that fails all behave the same everywhere. A failing round is
logged and the next one runs at its time; only cancellation (``stop``) ends the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        name: str,
        round: Callable[[], Awaitable[None]],
        interval: float,
        *,
        first_round_at_once: bool = False,
    ) -> None:
        self.name = name
        self.round = round
        self.interval = interval
        self.first_round_at_once = first_round_at_once
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Start the loop; a second call while it runs does nothing."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended; safe to call twice."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        if not self.first_round_at_once:
            await asyncio.sleep(self.interval)
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self.name, self.interval)
            await asyncio.sleep(self.interval)
