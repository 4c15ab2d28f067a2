"""Idle and max-age culling of sessions, done by exactly one gateway replica at a time.

Leadership is a session-level PostgreSQL advisory lock held on a connection of its own:
when the leader dies its connection closes, the lock is released, and another replica
takes over at its next attempt.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from .manager import SessionManager
from .pods import pod_activity
from .states import State
from .store import SessionRow

log = logging.getLogger(__name__)

_REAPER_LOCK = 7_351_003
_PARALLEL_PROBES = 20


@dataclass(frozen=True)
class ReapPolicy:
    idle_timeout: float
    max_age: float  # 0 = none
    cull_interval: float


class Reaper:
    def __init__(self, database_url: str, manager: SessionManager, policy: ReapPolicy) -> None:
        self.database_url = database_url
        self.manager = manager
        self.policy = policy
        self._task: asyncio.Task[None] | None = None
        self._lock_conn: psycopg.AsyncConnection | None = None
        self.is_leader = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._release()

    async def _release(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        self.is_leader = False
        if conn is not None:
            await conn.close()

    async def _lead(self) -> bool:
        """Hold (or try to take) the reaper lock; False while another replica holds it."""
        if self._lock_conn is not None and not self._lock_conn.closed:
            try:
                await self._lock_conn.execute("SELECT 1")
                return True
            except psycopg.Error:
                await self._release()
        conn = await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True, connect_timeout=10
        )
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_REAPER_LOCK,))
        row = await cur.fetchone()
        if row and row[0]:
            self._lock_conn, self.is_leader = conn, True
            log.info("this gateway is now the session reaper")
            return True
        await conn.close()
        return False

    async def _run(self) -> None:
        while True:
            try:
                if await self._lead():
                    await self.reap_once()
                    await self.manager.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reaper pass failed; retrying at the next interval")
                await self._release()
            await asyncio.sleep(self.policy.cull_interval)

    async def reap_once(self) -> list[tuple[str, str]]:
        """One pass over the ready sessions; returns the (session id, reason) it stopped."""
        rows = await self.manager.store.list(states=(State.READY,))
        gate = asyncio.Semaphore(_PARALLEL_PROBES)

        async def judge(row: SessionRow) -> tuple[str, str] | None:
            async with gate:
                try:
                    return await self._judge(row)
                except Exception:  # one bad row (an unreadable token) must not stop the pass
                    log.exception("could not judge session %s; skipped this pass", row.id)
                    return None

        verdicts = await asyncio.gather(*(judge(r) for r in rows))
        return [v for v in verdicts if v is not None]

    async def _judge(self, row: SessionRow) -> tuple[str, str] | None:
        now = datetime.now(UTC)
        activity = None
        if row.endpoint:
            token = self.manager.pod_token(row)
            base_url = f"/sessions/{row.id}/"
            activity = await pod_activity(self.manager.pods, row.endpoint, base_url, token)
        if activity is None:
            if not await self.manager.backend.poll(row.id):
                await self.manager.pod_gone(row.id)
                return row.id, "pod exited"
            return None  # alive but slow to answer: judge it next time
        last = row.last_activity
        if activity["busy"]:
            last = now  # a running preview or dbt command is work, whatever the traffic
        last = max(last, activity["last_activity_at"])
        if last > row.last_activity:
            await self.manager.store.touch(row.id, last)
        policy = self.policy
        started = row.ready_at or row.created_at
        if policy.max_age and now - started > timedelta(seconds=policy.max_age):
            return await self._reap(row, "max_age")
        if now - last > timedelta(seconds=policy.idle_timeout):
            return await self._reap(row, "idle")
        return None

    async def _reap(self, row: SessionRow, reason: str) -> tuple[str, str]:
        log.info("reaping session %s of %s (%s)", row.id, row.username, reason)
        await self.manager.stop_session(row.id, reason=reason)
        return row.id, reason
