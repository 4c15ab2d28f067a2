"""Shares of a session and invite links, in PostgreSQL (see docs/api.md, "Pairing").

A share belongs to the owner's (user, project) session, not to one session row: it holds
across a pod's restart and the new row that comes with it. An invite link carries a random
code of 256 bits; only its SHA-256 is stored, it is shown once, it expires, and the first
member of the project to accept it consumes it (single use).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..db import Database
from .access import MODES, lowest, role_cap


class ShareError(Exception):
    """A share or invite that cannot be made; ``status`` and ``code`` are the REST answer's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def check_mode(mode: object) -> str:
    if not isinstance(mode, str) or mode not in MODES:
        raise ShareError(400, "bad_request", f"'mode' must be one of {', '.join(MODES)}.")
    return mode


def effective_mode(mode: str, guest_role: str | None, owner_role: str | None) -> str | None:
    if guest_role is None or owner_role is None:
        return None
    return lowest(mode, role_cap(guest_role), role_cap(owner_role))


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


@dataclass(frozen=True)
class SessionKey:
    """The (owner, project) a share belongs to."""

    owner_id: int
    project_id: int


# A user's role on a project: admins everywhere, members by their membership.
_ROLE_OF = """
CASE WHEN {u}.disabled THEN NULL WHEN {u}.is_admin THEN 'admin'
     ELSE (SELECT role FROM project_members WHERE project_id = {p} AND user_id = {u}.id) END
"""
_SHARES = f"""
SELECT g.username AS user, sh.mode, sh.expires_at, sh.created_at,
       {_ROLE_OF.format(u="g", p="sh.project_id")} AS guest_role,
       {_ROLE_OF.format(u="o", p="sh.project_id")} AS owner_role
FROM session_shares sh JOIN users g ON g.id = sh.guest_id JOIN users o ON o.id = sh.owner_id
WHERE sh.owner_id = %(owner)s AND sh.project_id = %(project)s AND sh.expires_at > now()
"""
_SHARED_WITH = f"""
SELECT o.username AS owner, o.display_name AS owner_display_name, p.name AS project,
       sh.mode, sh.expires_at, s.id AS session_id, s.state,
       {_ROLE_OF.format(u="g", p="sh.project_id")} AS guest_role,
       {_ROLE_OF.format(u="o", p="sh.project_id")} AS owner_role
FROM session_shares sh
JOIN users o ON o.id = sh.owner_id JOIN users g ON g.id = sh.guest_id
JOIN projects p ON p.id = sh.project_id
JOIN LATERAL (SELECT id, state FROM sessions
              WHERE user_id = sh.owner_id AND project_id = sh.project_id
              ORDER BY created_at DESC LIMIT 1) s ON true
WHERE sh.guest_id = %(guest)s AND sh.expires_at > now()
ORDER BY o.username, p.name
"""
_UPSERT = """
INSERT INTO session_shares (owner_id, project_id, guest_id, mode, expires_at)
VALUES (%(owner)s, %(project)s, %(guest)s, %(mode)s, now() + %(expiry)s)
ON CONFLICT (owner_id, project_id, guest_id)
DO UPDATE SET mode = EXCLUDED.mode, expires_at = EXCLUDED.expires_at, created_at = now()
"""


def _share_public(row: dict[str, Any], session_id: str) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "user": row["user"],
        "mode": row["mode"],
        "effective_mode": effective_mode(row["mode"], row["guest_role"], row["owner_role"]),
        "expires_at": row["expires_at"].isoformat(),
        "created_at": row["created_at"].isoformat(),
    }


class Shares:
    def __init__(self, db: Database, *, expiry: int) -> None:
        self.db = db
        self.expiry = timedelta(seconds=expiry)

    async def share(
        self, key: SessionKey, session_id: str, guest: str, mode: str
    ) -> dict[str, Any]:
        """Share with the member ``guest`` (again: a new mode and a fresh expiry)."""
        check_mode(mode)
        row = await self.db.fetchone(
            f"SELECT g.id, {_ROLE_OF.format(u='g', p='%(project)s')} AS role"
            " FROM users g WHERE g.username = %(guest)s",
            {"guest": guest, "project": key.project_id},
        )
        if row is None or row["role"] is None:
            raise ShareError(
                404, "user_not_found", f"{guest!r} is not a member of this session's project."
            )
        if row["id"] == key.owner_id:
            raise ShareError(400, "bad_request", "A session is its owner's already.")
        await self._upsert(key, row["id"], mode)
        return await self._one(key, session_id, guest)

    async def _upsert(self, key: SessionKey, guest_id: int, mode: str) -> None:
        await self.db.execute(
            _UPSERT,
            {
                "owner": key.owner_id,
                "project": key.project_id,
                "guest": guest_id,
                "mode": mode,
                "expiry": self.expiry,
            },
        )

    async def _one(self, key: SessionKey, session_id: str, guest: str) -> dict[str, Any]:
        rows = await self.db.fetchall(
            _SHARES + " AND g.username = %(guest)s",
            {"owner": key.owner_id, "project": key.project_id, "guest": guest},
        )
        return _share_public(rows[0], session_id)

    async def of_session(self, key: SessionKey, session_id: str) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            _SHARES + " ORDER BY g.username", {"owner": key.owner_id, "project": key.project_id}
        )
        return [_share_public(r, session_id) for r in rows]

    async def revoke(self, key: SessionKey, guest: str) -> bool:
        count = await self.db.execute(
            "DELETE FROM session_shares sh USING users g WHERE g.id = sh.guest_id"
            " AND sh.owner_id = %s AND sh.project_id = %s AND g.username = %s",
            (key.owner_id, key.project_id, guest),
        )
        return count > 0

    async def shared_with(self, guest_id: int) -> list[dict[str, Any]]:
        """The sessions shared with the user that they can join now (mode is effective)."""
        rows = await self.db.fetchall(_SHARED_WITH, {"guest": guest_id})
        out = []
        for r in rows:
            mode = effective_mode(r["mode"], r["guest_role"], r["owner_role"])
            if mode is None:
                continue
            out.append(
                {
                    "session_id": r["session_id"],
                    "owner": r["owner"],
                    "owner_display_name": r["owner_display_name"] or r["owner"],
                    "project": r["project"],
                    "mode": mode,
                    "state": r["state"],
                    "expires_at": r["expires_at"].isoformat(),
                }
            )
        return out

    # -- invite links -----------------------------------------------------------------------
    async def invite(
        self, key: SessionKey, mode: str, expires_in: int | None
    ) -> tuple[str, datetime]:
        """A new code (returned once, stored hashed) and when it stops being accepted."""
        check_mode(mode)
        longest = int(self.expiry.total_seconds())
        seconds = longest if expires_in is None else expires_in
        if not 60 <= seconds <= longest:
            raise ShareError(
                400, "bad_request", f"'expires_in' must be between 60 and {longest} seconds."
            )
        code = secrets.token_urlsafe(32)
        row = await self.db.fetchone(
            "INSERT INTO session_invites (code_hash, owner_id, project_id, mode, expires_at)"
            " VALUES (%s, %s, %s, %s, now() + %s) RETURNING expires_at",
            (_code_hash(code), key.owner_id, key.project_id, mode, timedelta(seconds=seconds)),
        )
        assert row is not None
        return code, row["expires_at"]

    async def accept(self, code: str, user_id: int) -> tuple[SessionKey, str]:
        """Consume the invite for a member of its project and share with them.

        An unknown, expired or used code is the same 404: a guess learns nothing. A
        non-member's attempt does not consume the code."""
        gone = ShareError(404, "invite_not_found", "This invite link is unknown, used or expired.")
        if not code or len(code) > 128:
            raise gone
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT owner_id, project_id, mode FROM session_invites WHERE code_hash = %s"
                " AND accepted_by IS NULL AND expires_at > now() FOR UPDATE",
                (_code_hash(code),),
            )
            invite = await cur.fetchone()
            if invite is None:
                raise gone
            cur = await conn.execute(
                f"SELECT {_ROLE_OF.format(u='g', p='%(project)s')} AS role FROM users g"
                " WHERE g.id = %(user)s",
                {"project": invite["project_id"], "user": user_id},
            )
            member = await cur.fetchone()
            if member is None or member["role"] is None:
                raise gone
            if invite["owner_id"] == user_id:
                raise ShareError(400, "bad_request", "This is an invite to your own session.")
            await conn.execute(
                "UPDATE session_invites SET accepted_by = %s, accepted_at = now()"
                " WHERE code_hash = %s",
                (user_id, _code_hash(code)),
            )
            key = SessionKey(invite["owner_id"], invite["project_id"])
            await conn.execute(
                _UPSERT,
                {
                    "owner": key.owner_id,
                    "project": key.project_id,
                    "guest": user_id,
                    "mode": invite["mode"],
                    "expiry": self.expiry,
                },
            )
        return key, invite["mode"]

    async def members(self, project_id: int) -> list[dict[str, Any]]:
        """The enabled members of the project: (username, display_name, role)."""
        rows = await self.db.fetchall(
            "SELECT u.username, u.display_name, m.role FROM project_members m"
            " JOIN users u ON u.id = m.user_id WHERE m.project_id = %s AND NOT u.disabled"
            " ORDER BY u.username",
            (project_id,),
        )
        return [
            {
                "username": r["username"],
                "display_name": r["display_name"] or r["username"],
                "role": r["role"],
            }
            for r in rows
        ]

    async def latest_session(self, key: SessionKey) -> str | None:
        row = await self.db.fetchone(
            "SELECT id FROM sessions WHERE user_id = %s AND project_id = %s"
            " ORDER BY created_at DESC LIMIT 1",
            (key.owner_id, key.project_id),
        )
        return row["id"] if row else None
