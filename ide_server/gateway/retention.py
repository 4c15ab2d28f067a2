"""How long the history of dbt invocations is kept: older rows go, with their objects.

Every hour each replica removes, a bounded batch at a time, the finished invocations that
started more than ``invocation_retention_days`` ago: first their objects (logs and
artifacts) from the store, then their index row. A store that is down keeps the row (its
objects would otherwise be orphaned with nothing pointing at them) until the next round.
Deletes are idempotent, so replicas running it at once do no harm. ``0`` keeps everything.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from session_manager.periodic import Periodic

from ..db import Database
from .objectstore import ObjectStore, StoreUnavailable

log = logging.getLogger(__name__)

INTERVAL = 3600.0
BATCH = 200

_EXPIRED = (
    "SELECT id, object_keys FROM dbt_invocations WHERE status <> 'running'"
    " AND started_at < now() - %s ORDER BY started_at LIMIT %s"
)


async def delete_objects(objects: ObjectStore, rows: list[dict[str, Any]]) -> None:
    """Delete the stored objects of these invocation rows (their ``object_keys``); raise
    StoreUnavailable at the first the store does not take."""
    for row in rows:
        for key in dict(row["object_keys"] or {}).values():
            await asyncio.to_thread(objects.delete, str(key))


class Retention:
    def __init__(self, db: Database, objects: ObjectStore, days: int) -> None:
        self.db = db
        self.objects = objects
        self.keep = timedelta(days=days)
        self._loop = Periodic("expiring old dbt invocations", self._round, INTERVAL,
                              first_round_at_once=True)  # fmt: skip

    def start(self) -> None:
        if self.keep > timedelta(0):
            self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        while await self.expire_batch() == BATCH:
            pass  # a backlog (the first run on an old installation) goes in batches

    async def expire_batch(self) -> int:
        """Remove one batch of expired invocations; how many rows went."""
        rows = await self.db.fetchall(_EXPIRED, (self.keep, BATCH))
        gone: list[int] = []
        for row in rows:
            try:
                await delete_objects(self.objects, [row])
            except StoreUnavailable as exc:
                log.warning("old invocations kept until the store answers: %s", exc)
                break
            gone.append(int(row["id"]))
        if gone:
            await self.db.execute("DELETE FROM dbt_invocations WHERE id = ANY(%s)", (gone,))
            log.info("removed %d dbt invocations older than %d days", len(gone), self.keep.days)
        return len(gone) if len(gone) == len(rows) else 0
