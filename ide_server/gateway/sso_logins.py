"""SSO logins kept honest: the provider's tokens of each login (sealed), checked again
before every session start and at most every refresh interval while the login is used.

The check is a refresh-token grant, else a userinfo call with the access token. A refusal
(``invalid_grant``, 401) means the account is gone or disabled at the provider: every login
of the user ends, their pods stop (volumes kept), and the revocation loop closes their
sockets on every replica (``revocation.py``). An outage (timeouts, 5xx) is retried and
logged; logins keep working for ``oidc_outage_grace`` seconds, then end.

Replicas share the work through the ``claimed_until`` column: a row is claimed before its
tokens are used, so a rotating refresh token is never spent twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from session_manager.periodic import Periodic

from ..db import DatabaseUnavailable
from . import audit
from .logins import token_hash
from .oidc import OidcProvider, ProviderError, ProviderRefused, ProviderUnavailable, Tokens

if TYPE_CHECKING:
    from .services import Services

log = logging.getLogger(__name__)

_CLAIM = timedelta(seconds=60)  # how long a replica holds a row while it checks it
_RETRY = 15.0  # seconds between two attempts while the provider is out


def _aad(login_hash: bytes) -> str:
    return f"oidc-login:{login_hash.hex()}"


class SsoLogins:
    """Constructed without I/O; ``start()`` runs the refresh loop, ``stop()`` ends it."""

    def __init__(self, services: Services, provider: OidcProvider) -> None:
        self.services = services
        self.provider = provider
        config = services.config
        self.interval = timedelta(seconds=config.oidc_refresh_interval)
        self.grace = timedelta(seconds=config.oidc_outage_grace)
        pause = min(5.0, max(self.interval.total_seconds() / 4, 0.5))
        self._loop = Periodic("sso-refresh", self._round, pause)

    # -- storage ---------------------------------------------------------------------

    async def remember(
        self, login_token: str, user_id: int, sid: str | None, tokens: Tokens
    ) -> None:
        digest = token_hash(login_token)
        sealed = self.services.secret_box.encrypt(json.dumps(asdict(tokens)), _aad(digest))
        await self.services.db.execute(
            "INSERT INTO oidc_logins (token_hash, user_id, sid, tokens) VALUES (%s, %s, %s, %s)",
            (digest, user_id, sid, sealed),
        )

    def _tokens(self, row: dict[str, Any]) -> Tokens:
        plain = self.services.secret_box.decrypt(row["tokens"], _aad(bytes(row["token_hash"])))
        return Tokens(**json.loads(plain))

    async def tokens_of(self, login_token: str) -> Tokens | None:
        row = await self.services.db.fetchone(
            "SELECT token_hash, tokens FROM oidc_logins WHERE token_hash = %s",
            (token_hash(login_token),),
        )
        return self._tokens(row) if row else None

    # -- checks ----------------------------------------------------------------------

    async def check_now(self, login_token: str) -> bool:
        """Before a session start: is this login still good at the provider? A local login
        is. False means the login has just been ended."""
        rows = await self._claim(
            "o.token_hash = %(hash)s", {"hash": token_hash(login_token)}, wait=True
        )
        if not rows:
            # Not an SSO login, or gone already (then the caller's next request says so).
            row = await self.services.db.fetchone(
                "SELECT 1 AS one FROM login_sessions WHERE token_hash = %s",
                (token_hash(login_token),),
            )
            return row is not None
        return await self._check(rows[0])

    async def check_due(self) -> int:
        """One pass: check the used logins whose last check is older than the interval."""
        rows = await self._claim(
            "o.checked_at < now() - %(interval)s AND l.last_seen > now() - %(active)s",
            {"interval": self.interval, "active": max(self.interval * 2, timedelta(minutes=5))},
        )
        locked_out: set[int] = set()
        for row in rows:
            if row["user_id"] in locked_out:
                continue  # that user's logins all ended with the lockout
            if not await self._check(row, batch=rows) and await self._locked_out(row):
                locked_out.add(row["user_id"])
        return len(rows)

    async def _locked_out(self, row: dict[str, Any]) -> bool:
        found = await self.services.db.fetchone(
            "SELECT 1 AS one FROM login_sessions WHERE user_id = %s LIMIT 1", (row["user_id"],)
        )
        return found is None

    async def _claim(
        self, where: str, params: dict[str, Any], *, wait: bool = False
    ) -> list[dict[str, Any]]:
        sql = (
            "UPDATE oidc_logins o SET claimed_until = now() + %(claim)s"
            " FROM login_sessions l, users u"
            " WHERE l.token_hash = o.token_hash AND u.id = o.user_id AND "
            + where
            + " AND (o.claimed_until IS NULL OR o.claimed_until < now())"
            " RETURNING o.token_hash, o.user_id, o.tokens, o.failing_since, u.username"
        )
        params = {**params, "claim": _CLAIM}
        for _ in range(50 if wait else 1):
            rows = await self.services.db.fetchall(sql, params)
            if rows or not wait:
                return rows
            # Another replica is checking this login right now: wait for its answer.
            exists = await self.services.db.fetchone(
                "SELECT claimed_until > now() AS busy FROM oidc_logins WHERE token_hash = %s",
                (params["hash"],),
            )
            if exists is None or not exists["busy"]:
                return []
            await asyncio.sleep(0.1)
        return []

    async def _check(self, row: dict[str, Any], batch: list[dict[str, Any]] | None = None) -> bool:
        """Ask the provider about this login; False if it has just been ended."""
        digest = bytes(row["token_hash"])
        tokens = self._tokens(row)
        try:
            if tokens.refresh_token:
                fresh = await self.provider.refresh(tokens)
                if fresh.id_token and fresh.id_token != tokens.id_token:
                    claims = await self.provider.verify_id_token(fresh.id_token, nonce=None)
                    await self._same_subject(row, claims)
            else:
                await self.provider.userinfo(tokens.access_token)
                fresh = tokens
        except ProviderRefused as exc:
            await self._refused(row, str(exc), batch or [])
            return False
        except ProviderUnavailable as exc:
            return await self._outage(row, str(exc))
        except ProviderError as exc:
            # Not a refusal we recognise, not an outage either: treat like an outage, so
            # a misconfiguration is seen in the logs before it locks anybody out.
            return await self._outage(row, str(exc))
        sealed = self.services.secret_box.encrypt(json.dumps(asdict(fresh)), _aad(digest))
        await self.services.db.execute(
            "UPDATE oidc_logins SET tokens = %s, checked_at = now(), failing_since = NULL,"
            " claimed_until = NULL WHERE token_hash = %s",
            (sealed, digest),
        )
        return True

    async def _refused(self, row: dict[str, Any], why: str, batch: list[dict[str, Any]]) -> None:
        """The provider refuses this login's grant. If another login of the user is still in
        good standing, only this grant is gone (signed out at the provider in that browser,
        or that one grant revoked): this login alone ends. With none left, the account
        itself is refused: every login ends and the pods stop (:meth:`lock_out`).

        In good standing: in use, not failing, and either checked within two intervals or
        due in this same pass (then its own check comes next and decides for itself).
        """
        digest = bytes(row["token_hash"])
        due = [bytes(r["token_hash"]) for r in batch if bytes(r["token_hash"]) != digest]
        other = await self.services.db.fetchone(
            "SELECT 1 AS one FROM oidc_logins o JOIN login_sessions l"
            " ON l.token_hash = o.token_hash WHERE o.user_id = %(user)s"
            " AND o.token_hash <> %(hash)s AND o.failing_since IS NULL"
            " AND l.last_seen > now() - %(active)s"
            " AND (o.checked_at > now() - %(interval)s OR o.token_hash = ANY(%(due)s)) LIMIT 1",
            {
                "user": row["user_id"],
                "hash": digest,
                "active": max(self.interval * 2, timedelta(minutes=5)),
                "interval": self.interval * 2,  # checked lately: not just missed by a pass
                "due": due,
            },
        )
        if other is None:
            await self.lock_out(row["user_id"], row["username"], why)
            return
        log.warning(
            "SSO login of %r ended: the provider refused its grant (%s); the user's other "
            "logins are still in good standing",
            row["username"],
            why,
        )
        await self.services.db.execute(
            "DELETE FROM login_sessions WHERE token_hash = %s", (digest,)
        )
        await audit.record(self.services.db, None, "sso.login_refused", user=row["username"])

    async def _same_subject(self, row: dict[str, Any], claims: dict[str, Any]) -> None:
        found = await self.services.db.fetchone(
            "SELECT 1 AS one FROM user_identities WHERE user_id = %s AND issuer = %s"
            " AND subject = %s",
            (row["user_id"], self.provider.settings.issuer, str(claims.get("sub"))),
        )
        if found is None:
            raise ProviderRefused("a refreshed ID token names another subject")

    async def _outage(self, row: dict[str, Any], why: str) -> bool:
        digest = bytes(row["token_hash"])
        state = await self.services.db.fetchone(
            "UPDATE oidc_logins SET failing_since = coalesce(failing_since, now()),"
            " claimed_until = NULL, checked_at = now() - %s + %s WHERE token_hash = %s"
            " RETURNING failing_since < now() - %s AS expired",
            (self.interval, min(timedelta(seconds=_RETRY), self.interval), digest, self.grace),
        )
        if state is not None and state["expired"]:
            log.warning(
                "SSO login of %r ended: the provider has failed for longer than the grace (%s)",
                row["username"],
                why,
            )
            await self.services.db.execute(
                "DELETE FROM login_sessions WHERE token_hash = %s", (digest,)
            )
            return False
        log.warning("cannot check the SSO login of %r at the provider: %s", row["username"], why)
        return True

    async def lock_out(self, user_id: int, username: str, why: str) -> None:
        """The provider no longer vouches for the user: end every login, stop the pods."""
        from .admin import end_access

        log.warning("SSO account %r refused by the provider (%s): access ended", username, why)
        logins, stopped = await end_access(
            self.services, user_id, f"account {username} refused by the identity provider"
        )
        await audit.record(
            self.services.db,
            None,
            "sso.lockout",
            user=username,
            logins_ended=logins,
            sessions_stopped=stopped,
        )

    # -- the loop --------------------------------------------------------------------

    async def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _round(self) -> None:
        try:
            await self.check_due()
            await self.services.db.execute(
                "DELETE FROM oidc_pending WHERE created_at < now() - interval '15 minutes';"
            )
            await self.services.db.execute(
                "DELETE FROM oidc_seen_logout_tokens WHERE expires_at < now()"
            )
        except DatabaseUnavailable:
            log.warning("cannot check SSO logins: metadata database unreachable")
