"""Who may reach a session, and how far: its owner, an admin, or a guest it is shared with.

One decision for the upgrade of a socket, every REST call and the revalidation of open
sockets (:mod:`.revocation`): the SQL below gathers the facts for any number of (user,
session) pairs in one query, :func:`decide` turns them into an :class:`Access`.

A guest's mode is the lowest of the share's mode and what the project roles allow: a
read-only member (guest, or owner) caps it at ``view``. Admins reach every session as
admins, as before sharing existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db import Database

MODES = ("view", "edit", "full")  # share modes, lowest first
_RANK = {mode: i for i, mode in enumerate(MODES)}


def lowest(*modes: str) -> str:
    return min(modes, key=_RANK.__getitem__)


def role_cap(role: str) -> str:
    """The highest share mode a project role allows."""
    return "view" if role == "read-only" else "full"


@dataclass(frozen=True)
class Access:
    """``role`` is what the pod is told (read-only, developer, admin); ``guest_mode`` is
    None for the owner and for an admin, else the guest's effective share mode."""

    role: str
    guest_mode: str | None = None

    @property
    def guest(self) -> bool:
        return self.guest_mode is not None


# The facts about each pair of ``q(i, user_id, session_id)``; a user who is unknown or
# disabled, or a session that does not exist, has NULL facts.
ACCESS_COLUMNS = """
       u.id AS user_id, u.is_admin, s.user_id AS owner_id, m.role AS member_role,
       CASE WHEN ou.disabled THEN NULL WHEN ou.is_admin THEN 'admin' ELSE om.role END
           AS owner_role,
       sh.mode AS share_mode
"""
ACCESS_JOINS = """
LEFT JOIN users u ON u.id = q.user_id AND NOT u.disabled
LEFT JOIN sessions s ON s.id = q.session_id
LEFT JOIN users ou ON ou.id = s.user_id
LEFT JOIN project_members m ON m.project_id = s.project_id AND m.user_id = u.id
LEFT JOIN project_members om ON om.project_id = s.project_id AND om.user_id = s.user_id
LEFT JOIN session_shares sh ON sh.owner_id = s.user_id AND sh.project_id = s.project_id
     AND sh.guest_id = u.id AND sh.expires_at > now()
"""
_ONE = f"""
SELECT {ACCESS_COLUMNS}
FROM (SELECT %(user)s::bigint AS user_id, %(session)s::text AS session_id) AS q
{ACCESS_JOINS}
"""


def decide(facts: dict[str, Any]) -> Access | None:
    """The access the facts of one (user, session) pair give; None: the user must not
    learn that the session exists."""
    if facts.get("user_id") is None or facts.get("owner_id") is None:
        return None
    if facts["is_admin"]:
        return Access("admin")
    member_role = facts["member_role"]
    if member_role is None:
        return None
    if facts["owner_id"] == facts["user_id"]:
        return Access(member_role)
    share_mode, owner_role = facts["share_mode"], facts["owner_role"]
    if share_mode is None or owner_role is None:
        return None
    mode = lowest(share_mode, role_cap(member_role), role_cap(owner_role))
    return Access("read-only" if mode == "view" else member_role, mode)


async def session_access(db: Database, user_id: int, session_id: str) -> Access | None:
    """The user's access to the session now (one query)."""
    facts = await db.fetchone(_ONE, {"user": user_id, "session": session_id})
    return decide(facts) if facts else None
