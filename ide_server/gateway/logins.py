"""Server-side login sessions: a random 256-bit token in the cookie, only its hash stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from starlette.responses import Response

from ..db import Database
from .accounts import User

COOKIE = "ide_session"
# last_seen is rewritten at most this often, so a busy page does not write on every request.
_TOUCH_INTERVAL = timedelta(seconds=60)


def token_hash(token: str) -> bytes:
    """What the database keeps of a login token."""
    return hashlib.sha256(token.encode()).digest()


_hash = token_hash


class Logins:
    def __init__(self, db: Database, *, idle_timeout: int, max_age: int) -> None:
        self.db = db
        self.idle_timeout = timedelta(seconds=idle_timeout)
        self.max_age = timedelta(seconds=max_age)

    async def create(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        await self.db.execute(
            "INSERT INTO login_sessions (token_hash, user_id, expires_at)"
            " VALUES (%s, %s, now() + %s)",
            (_hash(token), user.id, self.max_age),
        )
        return token

    async def replace(self, old: str | None, user: User) -> str:
        """A new login for ``user`` that ends ``old`` (the browser's previous token): a new
        token at every login, so one planted before it is worth nothing after it."""
        await self.delete(old)
        return await self.create(user)

    def set_cookie(self, response: Response, token: str, *, secure: bool) -> None:
        """The login cookie, the same for a local login and a single sign-on."""
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self.max_age.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )

    async def resolve(self, token: str | None) -> User | None:
        """The user of a valid login, or None (unknown, idle too long, or past its max age)."""
        if not token or len(token) > 128:
            return None
        row = await self.db.fetchone(
            "SELECT u.id, u.username, u.display_name, u.email, u.is_admin, l.last_seen"
            " FROM login_sessions l JOIN users u ON u.id = l.user_id"
            " WHERE l.token_hash = %s AND l.expires_at > now()"
            " AND l.last_seen > now() - %s AND NOT u.disabled",
            (_hash(token), self.idle_timeout),
        )
        if row is None:
            return None
        last_seen = row.pop("last_seen")
        if datetime.now(UTC) - last_seen > _TOUCH_INTERVAL:
            await self.db.execute(
                "UPDATE login_sessions SET last_seen = now() WHERE token_hash = %s",
                (_hash(token),),
            )
        return User(**row)

    async def delete(self, token: str | None) -> None:
        if token:
            await self.db.execute(
                "DELETE FROM login_sessions WHERE token_hash = %s", (_hash(token),)
            )

    async def end_all(self, user_id: int, *, keep: str | None = None) -> int:
        """End every login of the user but ``keep`` (the caller's own, after a password
        change); their open sockets close at the next revalidation."""
        return await self.db.execute(
            "DELETE FROM login_sessions WHERE user_id = %s AND token_hash <> %s",
            (user_id, token_hash(keep) if keep else b""),
        )

    async def list_of(self, user_id: int, *, current: str | None = None) -> list[dict[str, object]]:
        """The user's live logins, newest first; ``current`` marks the caller's own."""
        mine = token_hash(current) if current else b""
        rows = await self.db.fetchall(
            "SELECT token_hash, created_at, last_seen, expires_at FROM login_sessions"
            " WHERE user_id = %s AND expires_at > now() AND last_seen > now() - %s"
            " ORDER BY created_at DESC",
            (user_id, self.idle_timeout),
        )
        return [
            {
                "created_at": r["created_at"].isoformat(),
                "last_seen": r["last_seen"].isoformat(),
                "expires_at": r["expires_at"].isoformat(),
                "current": bytes(r["token_hash"]) == mine,
            }
            for r in rows
        ]

    async def purge_expired(self) -> int:
        return await self.db.execute(
            "DELETE FROM login_sessions WHERE expires_at <= now() OR last_seen <= now() - %s",
            (self.idle_timeout,),
        )
