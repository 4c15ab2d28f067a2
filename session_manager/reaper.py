"""Idle and max-age culling of sessions, done by exactly one gateway replica at a time.

Leadership is a session-level PostgreSQL advisory lock held on a connection of its own:
when the leader dies its connection closes, the lock is released, and another replica
takes over at its next attempt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from .activity_probe import pod_activity
from .manager import SessionManager
from .periodic import Periodic
from .states import State
from .store import SessionRow

log = logging.getLogger(__name__)

_REAPER_LOCK = 7_351_003
_PARALLEL_PROBES = 100


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
        self._loop = Periodic("reaper pass", self._pass, policy.cull_interval,
                              first_round_at_once=True)  # fmt: skip
        self._lock_conn: psycopg.AsyncConnection | None = None
        self.is_leader = False

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
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

    async def _pass(self) -> None:
        try:
            if await self._lead():
                began = time.monotonic()
                await self.reap_once()
                if self.manager.metrics is not None:
                    self.manager.metrics.reaper_pass(time.monotonic() - began)
                await self.manager.reconcile()
        except Exception:
            await self._release()  # another replica may lead meanwhile
            raise

    async def reap_once(self) -> list[tuple[str, str]]:
        """One pass over the ready sessions; returns the (session id, reason) it stopped.

        Three phases, each bounded: probe every pod's activity (``_PARALLEL_PROBES`` at a
        time, each with a short timeout), record the newer activity of all of them in one
        statement, then stop the idle ones together (see ``SessionManager.stop_sessions``).
        """
        rows = await self.manager.store.list(states=(State.READY,))
        probes = asyncio.Semaphore(_PARALLEL_PROBES)

        async def probe(row: SessionRow) -> tuple[SessionRow, dict[str, Any] | None] | None:
            async with probes:
                try:
                    return row, await self._probe(row)
                except Exception:  # one bad row (an unreadable token) must not stop the pass
                    log.exception("could not judge session %s; skipped this pass", row.id)
                    return None

        probed = [p for p in await asyncio.gather(*(probe(r) for r in rows)) if p is not None]
        now = datetime.now(UTC)
        stops: list[tuple[SessionRow, str]] = []
        silent: list[SessionRow] = []
        touched: list[tuple[str, datetime]] = []
        for row, activity in probed:
            if activity is None:
                silent.append(row)  # unreachable: gone, or slow (judged below)
                continue
            last = now if activity["busy"] else max(row.last_activity, activity["last_activity_at"])
            if last > row.last_activity:
                touched.append((row.id, last))
            reason = self._verdict(row, last, now)
            if reason:
                stops.append((row, reason))
        await self.manager.store.touch_many(touched)
        gone = await self._settle_silent(silent)
        return gone + await self.manager.stop_sessions(stops)

    async def _settle_silent(self, rows: list[SessionRow]) -> list[tuple[str, str]]:
        """Pods that did not answer the probe: the dead ones are marked stopped."""
        bound = asyncio.Semaphore(_PARALLEL_PROBES)

        async def settle(row: SessionRow) -> tuple[str, str] | None:
            async with bound:
                try:
                    if await self.manager.backend.poll(row.id):
                        return None  # alive but slow to answer: judged next time
                    await self.manager.pod_gone(row.id)
                    return row.id, "pod exited"
                except Exception:
                    log.exception("could not settle session %s; retried next pass", row.id)
                    return None

        done = await asyncio.gather(*(settle(row) for row in rows))
        return [d for d in done if d is not None]

    async def _probe(self, row: SessionRow) -> dict[str, Any] | None:
        if not row.endpoint:
            return None
        token = self.manager.pod_token(row)
        base_url = f"/sessions/{row.id}/"
        return await pod_activity(row.endpoint, base_url, token)

    def _verdict(self, row: SessionRow, last: datetime, now: datetime) -> str:
        """Why the session should stop now ("" when it should not)."""
        policy = self.policy
        started = row.ready_at or row.created_at
        if policy.max_age and now - started > timedelta(seconds=policy.max_age):
            return "max_age"
        if now - last > timedelta(seconds=policy.idle_timeout):
            return "idle"
        return ""
