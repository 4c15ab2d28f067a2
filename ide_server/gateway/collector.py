"""Collects finished dbt invocations from the ready pods into the object store and index.

Every ``collect_interval`` seconds, for each ready session: list the pod's spool, write
the index row of each invocation (``running`` ones too, so the history shows them and
their log can be read through the pod), upload the files of each finished one, write its
object keys, then tell the pod to forget it. An upload that fails (the store is down)
leaves the spool as it is and is tried again with exponential backoff: the pod keeps the
files on its volume, across pod restarts, until they are stored. Nothing is lost, and an
invocation never waits for the store.

Before a session stops, :meth:`before_stop` cancels what runs in it (so its record says
``cancelled``, log kept) and collects one last time. Rows left ``running`` by a session that
is no longer ready (its pod died) are marked ``cancelled``; their files arrive when the
volume's pod next runs.

Every gateway replica collects; uploads and index writes are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from session_manager.manager import SessionManager
from session_manager.periodic import Periodic
from session_manager.states import State
from session_manager.store import SessionRow

from ..db import Database
from .invocations import InvocationIndex
from .objectstore import ObjectStore, StoreUnavailable, object_key
from .pod_spool import PodSpool, PodUnreachable

log = logging.getLogger(__name__)

FILES = ("dbt.log", "run_results.json", "manifest.json", "catalog.json")
_CONTENT_TYPES = {"dbt.log": "text/plain; charset=utf-8"}
MAX_BACKOFF = 30.0
_PARALLEL_PODS = 20
FINAL_COLLECT_TIMEOUT = 30.0


@dataclass
class _Backoff:
    attempts: int = 0
    next_at: float = 0.0


class InvocationCollector:
    def __init__(
        self,
        db: Database,
        manager: SessionManager,
        index: InvocationIndex,
        objects: ObjectStore,
        *,
        prefix: str,
        interval: float,
    ) -> None:
        self.db = db
        self.manager = manager
        self.index = index
        self.objects = objects
        self.prefix = prefix
        self.interval = interval
        self._backoff: dict[tuple[str, str], _Backoff] = {}
        self._loop = Periodic(
            "collecting dbt invocations", self.collect_all, interval, first_round_at_once=True
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def collect_all(self) -> None:
        rows = await self.manager.store.list(states=(State.READY,))
        gate = asyncio.Semaphore(_PARALLEL_PODS)

        async def one(row: SessionRow) -> None:
            async with gate:
                await self._collect_logged(row)

        await asyncio.gather(*(one(row) for row in rows))
        await self.db.execute(
            "UPDATE dbt_invocations SET status = 'cancelled', updated_at = now()"
            " WHERE status = 'running' AND (session_id IS NULL OR session_id NOT IN"
            " (SELECT id FROM sessions WHERE state IN ('ready', 'stopping')))"
        )

    async def _collect_logged(self, row: SessionRow) -> None:
        try:
            await self.collect(row)
        except PodUnreachable as exc:
            log.debug("session %s: spool not reachable (%s)", row.id, exc)
        except Exception:  # one session's trouble must not stop the others'
            log.exception("collecting the invocations of session %s failed", row.id)

    async def before_stop(self, row: SessionRow) -> None:
        """Cancel what runs in the pod, then collect it; never raises (the stop goes on)."""
        try:
            spool = self._spool(row)
            await spool.cancel_all()
            await asyncio.wait_for(self.collect(row, retry_now=True), FINAL_COLLECT_TIMEOUT)
        except Exception as exc:
            log.warning("last collection of session %s failed: %s", row.id, exc)
        try:
            await self.index.cancel_running(row.user_id, row.project_id, keep=set())
        except Exception:
            log.warning("could not close the running invocations of %s", row.id, exc_info=True)

    def _spool(self, row: SessionRow) -> PodSpool:
        try:
            token = self.manager.pod_token(row)
        except Exception as exc:
            raise PodUnreachable(f"no pod token: {exc}") from exc
        return PodSpool(self.manager.pods, row, token)

    async def collect(self, row: SessionRow, *, retry_now: bool = False) -> None:
        spool = self._spool(row)
        for entry in await spool.entries():
            await self._collect_one(row, spool, entry, retry_now)

    async def _collect_one(
        self, row: SessionRow, spool: PodSpool, entry: dict[str, Any], retry_now: bool
    ) -> None:
        invocation_id = str(entry.get("invocation_id"))
        if entry.get("status") == "running":
            await self._record(row, entry)
            return
        key = (row.id, invocation_id)
        backoff = self._backoff.get(key)
        if backoff is not None and not retry_now and time.monotonic() < backoff.next_at:
            return
        try:
            keys = await self._upload(row, spool, invocation_id, entry)
        except StoreUnavailable as exc:
            backoff = self._backoff.setdefault(key, _Backoff())
            backoff.attempts += 1
            delay = min(MAX_BACKOFF, self.interval * 2**backoff.attempts)
            backoff.next_at = time.monotonic() + delay
            log.warning("invocation %s kept in its pod, retry in %.0f s: %s",
                        invocation_id, delay, exc)  # fmt: skip
            await self._record(row, entry)  # the history shows it meanwhile
            return
        await self._record(row, entry, keys)
        await spool.forget(invocation_id)
        self._backoff.pop(key, None)

    async def _record(
        self, row: SessionRow, entry: dict[str, Any], keys: dict[str, str] | None = None
    ) -> None:
        await self.index.record(
            user_id=row.user_id,
            project_id=row.project_id,
            session_id=row.id,
            spooled=entry,
            object_keys=keys,
        )

    async def _upload(
        self, row: SessionRow, spool: PodSpool, invocation_id: str, entry: dict[str, Any]
    ) -> dict[str, str]:
        keys: dict[str, str] = {}
        for name in FILES:
            if name not in (entry.get("files") or {}):
                continue
            data = await spool.read(invocation_id, name)
            if data is None:
                continue
            key = object_key(self.prefix, row.project, row.username, invocation_id, name)
            content_type = _CONTENT_TYPES.get(name, "application/json")
            await asyncio.to_thread(self.objects.put, key, data, content_type)
            keys[name] = key
        return keys
