"""Who a provider's user is here: matched by (issuer, subject), never by email, created
just in time, with the configured claims and the groups → roles mapping applied at every
login."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..config import Config
from ..db import Database
from .accounts import ROLES, User

_USER = "u.id, u.username, u.display_name, u.email, u.is_admin, u.disabled"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class SsoRefused(Exception):
    """The provider vouched for someone this gateway does not let in; message for a person."""


@dataclass(frozen=True)
class SsoPolicy:
    """What the settings say about the provider's claims."""

    username_claim: str
    display_name_claim: str
    groups_claim: str
    group_roles: dict[str, Any]
    allowed_domains: frozenset[str]
    accept_unverified_email: bool

    @classmethod
    def from_config(cls, config: Config) -> SsoPolicy:
        return cls(
            username_claim=config.oidc_username_claim,
            display_name_claim=config.oidc_display_name_claim,
            groups_claim=config.oidc_groups_claim,
            group_roles=dict(config.oidc_group_roles),
            allowed_domains=frozenset(d.lower() for d in config.oidc_allowed_domains),
            accept_unverified_email=config.oidc_accept_unverified_email,
        )

    def check_email(self, claims: dict[str, Any]) -> str:
        """The user's email, if this gateway accepts it; raises SsoRefused otherwise."""
        email = claims.get("email")
        email = email.strip() if isinstance(email, str) else ""
        verified = claims.get("email_verified")
        # Only a real true (or the string some providers send); missing or "false" is no.
        if not self.accept_unverified_email and email and verified not in (True, "true"):
            raise SsoRefused("The provider has not verified this account's email address.")
        if self.allowed_domains:
            if not email or "@" not in email:
                raise SsoRefused("The provider sent no email address, which this server needs.")
            if not self.accept_unverified_email and verified not in (True, "true"):
                raise SsoRefused("The provider has not verified this account's email address.")
            domain = email.rsplit("@", 1)[1].lower()
            if domain not in self.allowed_domains:
                raise SsoRefused(f"Accounts of {domain} may not sign in here.")
        return email

    def roles_from(self, claims: dict[str, Any]) -> tuple[bool, dict[str, str]] | None:
        """(admin, {project: role}) from the groups claim; None when no mapping is set."""
        if not self.groups_claim or not self.group_roles:
            return None
        groups = claims.get(self.groups_claim)
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list):
            groups = []
        admin = False
        projects: dict[str, str] = {}
        for group in groups:
            mapped = self.group_roles.get(group) if isinstance(group, str) else None
            if mapped == "admin":
                admin = True
            elif isinstance(mapped, dict):
                for project, role in mapped.items():
                    if role in ROLES and _rank(role) > _rank(projects.get(project)):
                        projects[str(project)] = role
        return admin, projects


def _rank(role: str | None) -> int:
    return {"read-only": 1, "developer": 2, "admin": 3}.get(role or "", 0)


def _username_from(value: Any, fallback: str) -> str:
    name = value if isinstance(value, str) else ""
    if "@" in name:
        name = name.split("@", 1)[0]
    name = _NAME_CHARS.sub("-", name).strip("-.")[:56]
    return name or fallback


class Identities:
    def __init__(self, db: Database, policy: SsoPolicy) -> None:
        self.db = db
        self.policy = policy

    async def is_sso(self, user_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 AS one FROM user_identities WHERE user_id = %s", (user_id,)
        )
        return row is not None

    async def sign_in(self, issuer: str, claims: dict[str, Any]) -> User:
        """The user for these verified claims: found by (issuer, sub) or created, with
        name, email and mapped roles brought up to date. Raises SsoRefused."""
        email = self.policy.check_email(claims)
        subject = str(claims["sub"])
        display = claims.get(self.policy.display_name_claim)
        mapped = self.policy.roles_from(claims)
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                f"SELECT {_USER} FROM user_identities i JOIN users u ON u.id = i.user_id"
                " WHERE i.issuer = %s AND i.subject = %s FOR UPDATE OF u",
                (issuer, subject),
            )
            row = await cur.fetchone()
            if row is None:
                row = await self._create(conn, claims, email, display, mapped)
                await conn.execute(
                    "INSERT INTO user_identities (issuer, subject, user_id) VALUES (%s, %s, %s)",
                    (issuer, subject, row["id"]),
                )
            user = User(**row)
            if user.disabled:
                raise SsoRefused("This account is disabled here; ask an admin.")
            cur = await conn.execute(
                "UPDATE users SET email = %s, display_name = %s, is_admin = %s,"
                " password_hash = NULL WHERE id = %s"
                " RETURNING id, username, display_name, email, is_admin, disabled",
                (
                    email or user.email,
                    display if isinstance(display, str) and display else user.display_name,
                    mapped[0] if mapped is not None else user.is_admin,
                    user.id,
                ),
            )
            updated = await cur.fetchone()
            assert updated is not None
            if mapped is not None:
                await self._apply_roles(conn, user.id, mapped[1])
        return User(**updated)

    async def _create(
        self,
        conn: Any,
        claims: dict[str, Any],
        email: str,
        display: Any,
        mapped: tuple[bool, dict[str, str]] | None,
    ) -> dict[str, Any]:
        base = _username_from(claims.get(self.policy.username_claim), "user")
        for attempt in range(1, 100):
            name = base if attempt == 1 else f"{base}-{attempt}"
            cur = await conn.execute(
                "INSERT INTO users (username, password_hash, display_name, email, is_admin)"
                " VALUES (%s, NULL, %s, %s, %s) ON CONFLICT (username) DO NOTHING"
                " RETURNING id, username, display_name, email, is_admin, disabled",
                (
                    name,
                    display if isinstance(display, str) and display else name,
                    email,
                    bool(mapped and mapped[0]),
                ),
            )
            row = await cur.fetchone()
            if row is not None:
                return dict(row)
        raise SsoRefused("No free username could be made for this account; ask an admin.")

    async def _apply_roles(self, conn: Any, user_id: int, projects: dict[str, str]) -> None:
        """Memberships granted by groups follow the groups; others are left alone."""
        await conn.execute(
            "DELETE FROM project_members m USING projects p WHERE p.id = m.project_id"
            " AND m.user_id = %s AND m.from_groups AND NOT (p.name = ANY(%s))",
            (user_id, list(projects)),
        )
        for project, role in projects.items():
            await conn.execute(
                "INSERT INTO project_members (project_id, user_id, role, from_groups)"
                " SELECT id, %s, %s, true FROM projects WHERE name = %s"
                " ON CONFLICT (project_id, user_id)"
                " DO UPDATE SET role = EXCLUDED.role, from_groups = true",
                (user_id, role, project),
            )
