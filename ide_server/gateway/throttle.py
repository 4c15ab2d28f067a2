"""Login throttling, counted in PostgreSQL so that replicas and parallel attempts agree.

Two counters per attempt, both taken *before* the password is evaluated, in one
transaction whose row locks serialise concurrent attempts on the same key:

- per (address, user name): a guesser at one address gets ``PAIR_LIMIT`` tries per window
  at one account. The owner, logging in from elsewhere, is not locked out by them.
- per address: ``ADDRESS_LIMIT`` tries per window over all user names, so one address
  cannot walk through the user list. A successful login gives its attempt back, so a busy
  office behind one address is only slowed by its failures.

An attempt over a limit is refused (429) without a derivation and without being counted.
See docs/security.md for why the lockout is keyed this way.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import psycopg

from ..db import Database

PAIR_LIMIT = 10
ADDRESS_LIMIT = 50
WINDOW = 300  # seconds
# Old rows are swept every this many attempts (on any replica), so the table stays small.
_PURGE_EVERY = 200


class Throttled(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def address_key(host: str | None) -> str:
    """The address a limit applies to: IPv6 clients are counted per /64, since one host
    usually holds a whole /64."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


_COUNT = """
INSERT INTO login_throttle AS t (key, window_start, attempts) VALUES (%(key)s, now(), 1)
ON CONFLICT (key) DO UPDATE SET
    attempts = CASE WHEN t.window_start <= now() - make_interval(secs => %(window)s)
                    THEN 1 ELSE t.attempts + 1 END,
    window_start = CASE WHEN t.window_start <= now() - make_interval(secs => %(window)s)
                        THEN now() ELSE t.window_start END
RETURNING attempts,
    ceil(extract(epoch FROM t.window_start + make_interval(secs => %(window)s) - now()))::int
        AS retry_after
"""


class LoginThrottle:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._since_purge = 0

    async def reserve(self, address: str, username: str) -> None:
        """Count one attempt, or raise Throttled (nothing counted) if a limit is reached."""
        await self._purge_now_and_then()
        async with self.db.transaction() as conn:
            for key, limit, who in (
                (f"pair:{address} {username}", PAIR_LIMIT, "for this user from your address"),
                (f"address:{address}", ADDRESS_LIMIT, "from your address"),
            ):
                row = await _count(conn, key)
                if row["attempts"] > limit:
                    minutes = max(1, round(row["retry_after"] / 60))
                    # Raising rolls the transaction back: a refused attempt counts nowhere.
                    raise Throttled(
                        f"Too many failed logins {who}; try again in {minutes} minute(s).",
                        max(1, int(row["retry_after"])),
                    )

    async def succeeded(self, address: str, username: str) -> None:
        """A correct password: that pair starts afresh and the address gets its try back."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM login_throttle WHERE key = %s", (f"pair:{address} {username}",)
            )
            await conn.execute(
                "UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = %s",
                (f"address:{address}",),
            )

    async def _purge_now_and_then(self) -> None:
        self._since_purge += 1
        if self._since_purge < _PURGE_EVERY:
            return
        self._since_purge = 0
        await self.db.execute(
            "DELETE FROM login_throttle WHERE window_start <= now() - make_interval(secs => %s)",
            (WINDOW,),
        )


async def _count(conn: psycopg.AsyncConnection[Any], key: str) -> dict[str, Any]:
    cur = await conn.execute(_COUNT, {"key": key, "window": WINDOW})
    row = await cur.fetchone()
    assert row is not None
    return row
