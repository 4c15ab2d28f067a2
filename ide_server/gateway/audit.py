"""The audit log: who did what, when. Never holds a secret or query data."""

from __future__ import annotations

import logging
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
