"""Access changes reach open WebSockets: the registry of sockets this replica proxies, and
the loop that revalidates all of them against PostgreSQL every ``INTERVAL`` seconds.

A socket is checked at its upgrade like any request; afterwards its login, its user and
its role can change (logout, expiry, a password change, a user disabled, a member removed
or demoted, a share revoked, lowered or expired). Each pass asks the database, in one
query for every open socket of this replica, whether the socket's login is still valid
and which access it now gives on the socket's session (:mod:`.access`). A socket whose
login or access is gone is closed (4401); one whose role fell to read-only is downgraded
in place (the proxy reads ``OpenSocket.role`` at every frame); any other fall of an
owner's role closes it, so that the pod learns the new role on the reconnect; a guest's
share mode changed (lowered or raised) closes the socket with 4403, and the client
reconnects in the new mode.

Why a loop and not LISTEN/NOTIFY: expiry is a matter of time that no one announces, a
change made in SQL by an operator announces nothing either, and a notification sent while
a replica's listening connection is down is lost. A loop covers every cause, on every
replica, with no connection to keep listening: one indexed query per second per replica,
whatever the number of sockets (see docs/security.md).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from session_manager.periodic import Periodic

from ..db import Database, DatabaseUnavailable
from .access import ACCESS_COLUMNS, ACCESS_JOINS, Access, decide
from .logins import token_hash

log = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds: a revocation reaches a socket within this plus one query
_CHUNK = 1000  # sockets per query
_RANK = {"read-only": 0, "developer": 1, "admin": 2}
CLOSE_REVOKED = 4401  # close code for a socket whose access ended (reason says why)
CLOSE_CHANGED = 4403  # a guest's share mode fell: reconnect to learn the new one

# Which login each socket's token still is, then what that user may do on the socket's
# session: the same facts and decision as at the upgrade (see access.py).
_CHECK = f"""
WITH q AS (
    SELECT q.i, q.session_id, u.id AS user_id
    FROM unnest(%(hashes)s::bytea[], %(sessions)s::text[], %(ids)s::int[])
         AS q(token_hash, session_id, i)
    LEFT JOIN login_sessions l ON l.token_hash = q.token_hash AND l.expires_at > now()
         AND l.last_seen > now() - %(idle)s
    LEFT JOIN users u ON u.id = l.user_id AND NOT u.disabled
)
SELECT q.i, q.user_id IS NOT NULL AS logged_in, {ACCESS_COLUMNS}
FROM q
{ACCESS_JOINS}
"""
# An open socket is use of its login: it keeps the login from idling out (once a minute).
_TOUCH = """
UPDATE login_sessions SET last_seen = now()
WHERE token_hash = ANY(%(hashes)s) AND expires_at > now()
  AND last_seen > now() - %(idle)s AND last_seen < now() - interval '60 seconds'
"""


@dataclass(eq=False)
class OpenSocket:
    """One proxied WebSocket. ``role`` may be lowered while it is open; once ``revoked``
    is set the proxy closes it with ``code`` and ``reason``. ``guest_mode`` is the share
    mode of a guest's socket (None for the owner's or an admin's)."""

    token_hash: bytes
    session_id: str
    role: str
    guest_mode: str | None = None
    reason: str = ""
    code: int = CLOSE_REVOKED
    revoked: asyncio.Event = field(default_factory=asyncio.Event)

    def revoke(self, reason: str, code: int = CLOSE_REVOKED) -> None:
        if not self.revoked.is_set():
            self.reason = reason
            self.code = code
            self.revoked.set()

    def apply(self, logged_in: bool, access: Access | None) -> None:
        """What the database now says about this socket's login and access."""
        if not logged_in:
            self.revoke("logged out")
        elif access is None:
            self.revoke("access to this session was removed")
        elif self.guest_mode is not None:
            # A guest's socket under another mode closes: the client reconnects and learns
            # it. Lower, so that nothing written under the old mode gets through; higher,
            # so that the guest's editor opens up now rather than at the next reload.
            if access.guest_mode is not None and access.guest_mode != self.guest_mode:
                self.revoke(f"your access changed to {access.guest_mode}", CLOSE_CHANGED)
        elif _RANK.get(access.role, 0) < _RANK.get(self.role, 0):
            if access.role == "read-only":
                log.info("socket of session %s downgraded to read-only", self.session_id)
                self.role = access.role
            else:
                self.revoke(f"your role changed to {access.role}")


class SocketRegistry:
    """Constructed without I/O; ``start()`` runs the revalidation loop, ``stop()`` ends it."""

    def __init__(self, db: Database, *, idle_timeout: int, interval: float = INTERVAL) -> None:
        self.db = db
        self.idle = timedelta(seconds=idle_timeout)
        self.interval = interval
        self._open: set[OpenSocket] = set()
        self._loop = Periodic("socket-revalidation", self._round, interval)

    def register(
        self, token: str, session_id: str, role: str, guest_mode: str | None = None
    ) -> OpenSocket:
        sock = OpenSocket(token_hash(token), session_id, role, guest_mode)
        self._open.add(sock)
        return sock

    def unregister(self, sock: OpenSocket) -> None:
        self._open.discard(sock)

    def __len__(self) -> int:
        return len(self._open)

    async def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        try:
            await self.revalidate()
        except DatabaseUnavailable:
            # Open sockets keep working through an outage; the check resumes after it.
            log.warning("cannot revalidate open sockets: metadata database unreachable")

    async def revalidate(self) -> None:
        """One pass over every open socket of this replica."""
        sockets = [s for s in self._open if not s.revoked.is_set()]
        for start in range(0, len(sockets), _CHUNK):
            await self._check(sockets[start : start + _CHUNK])

    async def _check(self, sockets: list[OpenSocket]) -> None:
        params: dict[str, Any] = {
            "hashes": [s.token_hash for s in sockets],
            "sessions": [s.session_id for s in sockets],
            "ids": list(range(len(sockets))),
            "idle": self.idle,
        }
        rows = await self.db.fetchall(_CHECK, params)
        for row in rows:
            sockets[row["i"]].apply(row["logged_in"], decide(row))
        await self.db.execute(_TOUCH, {"hashes": params["hashes"], "idle": self.idle})
