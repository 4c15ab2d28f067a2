"""The audit log: who did what, when. Never holds a secret or query data."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ..db import Database, DatabaseUnavailable

log = logging.getLogger("ide_server.audit")


async def record(db: Database, actor: str | None, action: str, **detail: Any) -> None:
    """Append one entry; an unreachable database loses the entry, never the request."""
    log.info("%r %s %r", actor, action, detail)  # repr: a name cannot forge log lines
    try:
        await db.execute(
            "INSERT INTO audit_log (actor, action, detail) VALUES (%s, %s, %s)",
            (actor, action, Jsonb(detail)),
        )
    except DatabaseUnavailable:
        log.warning("audit entry not stored: %s %s", actor, action)


async def query(
    db: Database,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries, newest first. ``action`` matches a whole action or, ending in ``.``, a
    family (``user.`` for every ``user.*``); ``before_id`` pages back."""
    where: list[str] = []
    params: list[object] = []
    if actor is not None:
        where.append("actor = %s")
        params.append(actor)
    if action:
        if action.endswith("."):
            where.append("starts_with(action, %s)")
        else:
            where.append("action = %s")
        params.append(action)
    for clause, value in (("at >= %s", since), ("at < %s", until), ("id < %s", before_id)):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = "SELECT id, at, actor, action, detail FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = await db.fetchall(sql + " ORDER BY id DESC LIMIT %s", (*params, limit))
    return [{**r, "at": r["at"].isoformat()} for r in rows]
