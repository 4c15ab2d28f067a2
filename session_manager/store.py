"""Session rows in PostgreSQL; every state change is one conditional UPDATE."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from .changes import LocalChanges
from .ports import SessionDatabase
from .states import LIVE, State, check_transition, sources_of

_COLUMNS = """
    s.id, s.user_id, s.project_id, s.backend, s.state, s.reason, s.progress, s.endpoint,
    s.pod_token, s.created_at, s.updated_at, s.ready_at, s.last_activity, s.stopped_at,
    u.username, p.name AS project
"""
_FROM = "sessions s JOIN users u ON u.id = s.user_id JOIN projects p ON p.id = s.project_id"
# Serializes "check the limits, then insert" across requests and gateway replicas.
_CREATE_LOCK = 7_351_002


@dataclass(frozen=True)
class Limits:
    per_user: int
    active: int
    concurrent_starts: int


class LimitExceeded(Exception):
    """A limit forbids another session now; the message is for a person."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def _check_limits(conn: psycopg.AsyncConnection[Any], user_id: int, limits: Limits) -> None:
    cur = await conn.execute(
        "SELECT count(*) FILTER (WHERE user_id = %s) AS mine, count(*) AS active,"
        " count(*) FILTER (WHERE state IN ('pending', 'starting')) AS starting"
        " FROM sessions WHERE state = ANY(%s)",
        (user_id, [s.value for s in LIVE]),
    )
    counts = await cur.fetchone()
    assert counts is not None
    if counts["mine"] >= limits.per_user:
        raise LimitExceeded(
            f"You already have {counts['mine']} running sessions, the most allowed per user; "
            "stop one of them and try again.",
            60,
        )
    if counts["active"] >= limits.active:
        raise LimitExceeded(
            "The IDE is at its limit of running sessions; try again in a few minutes or ask "
            "an admin to raise IDE_MAX_ACTIVE_SESSIONS.",
            120,
        )
    if counts["starting"] >= limits.concurrent_starts:
        raise LimitExceeded(
            "Many sessions are starting right now; yours will start if you try again in a "
            "few seconds.",
            5,
        )


@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: int
    project_id: int
    backend: str
    state: State
    reason: str | None
    progress: str
    endpoint: str | None
    pod_token: str | None
    created_at: datetime
    updated_at: datetime
    ready_at: datetime | None
    last_activity: datetime
    stopped_at: datetime | None
    username: str
    project: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SessionRow:
        return cls(**{**row, "state": State(row["state"])})

    def public(self) -> dict[str, Any]:
        """The session object of the REST API (no endpoint, no token)."""
        return {
            "id": self.id,
            "project": self.project,
            "user": self.username,
            "state": self.state.value,
            "reason": self.reason,
            "progress": self.progress,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "last_activity": self.last_activity.isoformat(),
            "url": f"/sessions/{self.id}/",
        }


class SessionStore:
    def __init__(self, db: SessionDatabase) -> None:
        self.db = db
        # Followers of a row on this replica wake when it is changed here (see changes.py).
        self.changes = LocalChanges()

    async def create_or_get_live(
        self, user_id: int, project_id: int, backend: str, limits: Limits
    ) -> tuple[SessionRow, bool]:
        """Return the live session of (user, project), or insert a pending one.

        The check of the limits and the insert happen under one transaction-scoped advisory
        lock, so concurrent opens converge on one row and never overshoot a limit; the
        partial unique index is the last line of defence. Raises :class:`LimitExceeded`.
        """
        existing = await self.live_for(user_id, project_id)
        if existing is not None:
            return existing, False
        session_id = uuid.uuid4().hex
        async with self.db.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
            cur = await conn.execute(
                "SELECT id FROM sessions WHERE user_id = %s AND project_id = %s"
                " AND state = ANY(%s)",
                (user_id, project_id, [s.value for s in LIVE]),
            )
            if await cur.fetchone() is None:
                await _check_limits(conn, user_id, limits)
                await conn.execute(
                    "INSERT INTO sessions (id, user_id, project_id, backend, state, progress)"
                    " VALUES (%s, %s, %s, %s, 'pending', 'queued')",
                    (session_id, user_id, project_id, backend),
                )
                created = True
            else:
                created = False
        row = await self.get(session_id) if created else await self.live_for(user_id, project_id)
        if row is None:  # it ended between the insert and the read: ask again
            return await self.create_or_get_live(user_id, project_id, backend, limits)
        return row, created

    async def get(self, session_id: str) -> SessionRow | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE s.id = %s", (session_id,)
        )
        return SessionRow.from_row(row) if row else None

    async def live_for(self, user_id: int, project_id: int) -> SessionRow | None:
        row = await self.db.fetchone(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE s.user_id = %s AND s.project_id = %s"
            " AND s.state = ANY(%s)",
            (user_id, project_id, [s.value for s in LIVE]),
        )
        return SessionRow.from_row(row) if row else None

    async def list(
        self, *, user_id: int | None = None, states: tuple[State, ...] | None = None
    ) -> list[SessionRow]:
        where: list[str] = ["TRUE"]
        params: list[object] = []
        if user_id is not None:
            where.append("s.user_id = %s")
            params.append(user_id)
        if states is not None:
            where.append("s.state = ANY(%s)")
            params.append([s.value for s in states])
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(where)} ORDER BY s.created_at",
            params,
        )
        return [SessionRow.from_row(r) for r in rows]

    async def transition(
        self,
        session_id: str,
        target: State,
        *,
        only_from: tuple[State, ...] | None = None,
        **fields: Any,
    ) -> SessionRow | None:
        """Move the session to ``target`` if its current state allows it (and is one of
        ``only_from``, when given).

        Returns the updated row, or None if the row was not in a state that may move there
        (another replica or request got there first). Raises :class:`IllegalTransition`
        when ``only_from`` names a state that can never reach ``target``: that is a bug of
        the caller, not a race.
        """
        for source in only_from or ():
            check_transition(source, target)
        sources = [s.value for s in sources_of(target) if only_from is None or s in only_from]
        assignments, values = _moving_to(target)
        for name, value in fields.items():
            if name not in ("reason", "progress", "endpoint", "pod_token"):
                raise ValueError(f"cannot set {name}")
            assignments.append(f"{name} = %s")
            values.append(value)
        values += [session_id, sources]
        row = await self.db.fetchone(
            f"UPDATE sessions AS s SET {', '.join(assignments)} FROM users u, projects p"
            " WHERE u.id = s.user_id AND p.id = s.project_id"
            f" AND s.id = %s AND s.state = ANY(%s) RETURNING {_COLUMNS}",
            values,
        )
        if row is None:
            return None
        self.changes.notify([session_id])
        return SessionRow.from_row(row)

    async def transition_many(self, moves: Sequence[tuple[str, str]], target: State) -> set[str]:
        """Move each (session id, reason) to ``target`` where its state allows it, all in
        one statement; the ids that moved (the others were moved elsewhere first)."""
        if not moves:
            return set()
        assignments, values = _moving_to(target)
        rows = await self.db.fetchall(
            f"UPDATE sessions AS s SET {', '.join(assignments)}, reason = v.reason"
            " FROM unnest(%s::text[], %s::text[]) AS v(id, reason)"
            " WHERE s.id = v.id AND s.state = ANY(%s) RETURNING s.id",
            [
                *values,
                [sid for sid, _ in moves],
                [reason for _, reason in moves],
                [s.value for s in sources_of(target)],
            ],
        )
        moved = {row["id"] for row in rows}
        self.changes.notify(moved)
        return moved

    async def set_progress(self, session_id: str, progress: str) -> None:
        await self.db.execute(
            "UPDATE sessions SET progress = %s, updated_at = now() WHERE id = %s",
            (progress, session_id),
        )
        self.changes.notify([session_id])

    async def touch_many(self, seen: Sequence[tuple[str, datetime]]) -> None:
        """Record the activity of many sessions in one statement (never moving it back)."""
        if not seen:
            return
        await self.db.execute(
            "UPDATE sessions AS s SET last_activity = greatest(s.last_activity, v.at)"
            " FROM unnest(%s::text[], %s::timestamptz[]) AS v(id, at) WHERE s.id = v.id",
            ([sid for sid, _ in seen], [at for _, at in seen]),
        )

    async def touch(self, session_id: str, at: datetime | None = None) -> None:
        """Record activity; ``at`` (the pod's own clock) never moves it backwards."""
        await self.db.execute(
            "UPDATE sessions SET last_activity = greatest(last_activity, coalesce(%s, now()))"
            " WHERE id = %s",
            (at, session_id),
        )


def _moving_to(target: State) -> tuple[list[str], list[Any]]:
    """The assignments (and their values) every move to ``target`` makes."""
    assignments = ["state = %s", "updated_at = now()"]
    if target == State.READY:
        assignments.append("ready_at = now()")
    if target in (State.STOPPED, State.FAILED):
        assignments.append("stopped_at = now()")
    return assignments, [target.value]
