"""The index of dbt invocations in PostgreSQL (table ``dbt_invocations``).

Rows are written by the collector (:mod:`.collector`) as it finds invocations in the pods'
spools: first while they run (status ``running``), then final, with the keys of their
stored objects. The REST API (:mod:`.routes_invocations`) reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ..db import Database

STATUSES = ("running", "success", "error", "cancelled")
_COLUMNS = """
    i.id, i.user_id, i.project_id, i.invocation_id, i.session_id, i.run_by, i.command,
    i.args, i.branch, i.commit, i.started_at, i.elapsed_ms, i.status, i.counts,
    i.object_keys, u.username, p.name AS project
"""
_FROM = "dbt_invocations i JOIN users u ON u.id = i.user_id JOIN projects p ON p.id = i.project_id"


@dataclass(frozen=True)
class InvocationRow:
    id: int
    user_id: int
    project_id: int
    invocation_id: str
    session_id: str | None
    run_by: str | None
    command: str
    args: list[str]
    branch: str | None
    commit: str | None
    started_at: datetime
    elapsed_ms: float | None
    status: str
    counts: dict[str, int]
    object_keys: dict[str, str]
    username: str
    project: str

    def public(self) -> dict[str, Any]:
        return {
            "invocation_id": self.invocation_id,
            "project": self.project,
            "user": self.username,
            "run_by": self.run_by,
            "command": self.command,
            "args": list(self.args),
            "branch": self.branch,
            "commit": self.commit,
            "started_at": self.started_at.timestamp(),
            "elapsed_ms": self.elapsed_ms,
            "status": self.status,
            "counts": dict(self.counts),
            "files": sorted(self.object_keys),
        }


def _row(data: dict[str, Any]) -> InvocationRow:
    return InvocationRow(**data)


class InvocationIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        *,
        user_id: int,
        project_id: int,
        session_id: str,
        spooled: dict[str, Any],
        object_keys: dict[str, str] | None = None,
    ) -> None:
        """Insert or update the row of one spooled invocation record.

        A final row never goes back to ``running`` (a second gateway replica may list the
        pod a moment after the first stored it), and its object keys are only added to.
        """
        status = str(spooled.get("status"))
        if status not in STATUSES:
            status = "error"
        counts = {k: int(v) for k, v in dict(spooled.get("counts") or {}).items()}
        await self.db.execute(
            """
            INSERT INTO dbt_invocations (user_id, project_id, invocation_id, session_id,
                run_by, command, args, branch, commit, started_at, elapsed_ms, status,
                counts, object_keys)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (user_id, project_id, invocation_id) DO UPDATE SET
                session_id = EXCLUDED.session_id,
                elapsed_ms = coalesce(EXCLUDED.elapsed_ms, dbt_invocations.elapsed_ms),
                status = CASE WHEN EXCLUDED.status = 'running'
                              THEN dbt_invocations.status ELSE EXCLUDED.status END,
                counts = CASE WHEN EXCLUDED.status = 'running'
                              THEN dbt_invocations.counts ELSE EXCLUDED.counts END,
                object_keys = dbt_invocations.object_keys || EXCLUDED.object_keys,
                updated_at = now()
            """,
            (
                user_id,
                project_id,
                str(spooled["invocation_id"]),
                session_id,
                spooled.get("user"),
                str(spooled.get("command") or ""),
                Jsonb([str(a) for a in spooled.get("args") or []]),
                spooled.get("branch"),
                spooled.get("commit"),
                datetime.fromtimestamp(float(spooled.get("started_at") or 0), UTC),
                spooled.get("elapsed_ms"),
                status,
                Jsonb(counts),
                Jsonb(object_keys or {}),
            ),
        )

    async def cancel_running(self, user_id: int, project_id: int, keep: set[str]) -> int:
        """Rows still ``running`` of a session that stopped: they ran when it stopped.

        Their logs reach the store when the volume's pod next runs (the pod marks its own
        spool cancelled the same way)."""
        return await self.db.execute(
            "UPDATE dbt_invocations SET status = 'cancelled', updated_at = now()"
            " WHERE user_id = %s AND project_id = %s AND status = 'running'"
            " AND NOT (invocation_id = ANY(%s))",
            (user_id, project_id, sorted(keep)),
        )

    async def list(
        self, project_id: int, user_id: int | None, limit: int = 50
    ) -> list[InvocationRow]:
        """Newest first; ``user_id=None`` lists every user's (admins)."""
        where = "i.project_id = %s" + ("" if user_id is None else " AND i.user_id = %s")
        params: tuple[Any, ...] = (project_id,) if user_id is None else (project_id, user_id)
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where}"
            " ORDER BY i.started_at DESC, i.id DESC LIMIT %s",
            (*params, limit),
        )
        return [_row(r) for r in rows]

    async def get(self, invocation_id: str, user_id: int | None) -> InvocationRow | None:
        """The caller's invocation of that id (``user_id=None``: anyone's, newest)."""
        where = "i.invocation_id = %s" + ("" if user_id is None else " AND i.user_id = %s")
        params: tuple[Any, ...] = (invocation_id,) if user_id is None else (invocation_id, user_id)
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY i.started_at DESC LIMIT 1",
            params,
        )
        return _row(row) if row else None
