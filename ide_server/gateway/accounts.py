"""Users, projects and roles in the metadata database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from ..db import Database
from .passwords import hash_password_async

ROLES = ("admin", "developer", "read-only")


class AccountError(Exception):
    """Bad input for a user or project; the message is for a person."""


class AccountNotFound(AccountError):
    """The named user, project or membership does not exist."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    email: str
    is_admin: bool
    disabled: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "display_name": self.display_name,
            "email": self.email,
            "is_admin": self.is_admin,
        }

    def admin_view(self) -> dict[str, Any]:
        return {**self.public(), "disabled": self.disabled}


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    git_url: str
    default_branch: str
    protect_default_branch: bool

    def public(self, role: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "git_url": self.git_url,
            "default_branch": self.default_branch,
            "role": role,
        }


_USER = "id, username, display_name, email, is_admin, disabled"
_PROJECT = "id, name, git_url, default_branch, protect_default_branch"


def _check_name(kind: str, name: str) -> None:
    if (
        not name
        or len(name) > 64
        or not all(c.isalnum() or c in "-_." for c in name)
        or name.startswith(".")
    ):
        raise AccountError(
            f"{kind} names use letters, digits, '-', '_' and '.', up to 64 "
            f"characters, and do not start with '.': {name!r}"
        )


MAX_PASSWORD_LENGTH = 1024


def check_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("passwords need at least 8 characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"passwords have at most {MAX_PASSWORD_LENGTH} characters")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_user(
        self,
        username: str,
        password: str,
        *,
        is_admin: bool = False,
        display_name: str = "",
        email: str = "",
    ) -> User:
        _check_name("user", username)
        check_password(password)
        hashed = await hash_password_async(password)
        try:
            row = await self.db.fetchone(
                f"INSERT INTO users (username, password_hash, is_admin, display_name, email)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {_USER}",
                (
                    username,
                    hashed,
                    is_admin,
                    display_name or username,
                    email or f"{username}@localhost",
                ),
            )
        except psycopg.errors.UniqueViolation:
            raise AccountError(f"user {username!r} exists already") from None
        assert row is not None
        return User(**row)

    async def set_password(self, username: str, password: str) -> User:
        check_password(password)
        hashed = await hash_password_async(password)
        row = await self.db.fetchone(
            f"UPDATE users SET password_hash = %s WHERE username = %s RETURNING {_USER}",
            (hashed, username),
        )
        if row is None:
            raise AccountNotFound(f"no user {username!r}")
        return User(**row)

    async def set_disabled(self, username: str, disabled: bool) -> User:
        row = await self.db.fetchone(
            f"UPDATE users SET disabled = %s WHERE username = %s RETURNING {_USER}",
            (disabled, username),
        )
        if row is None:
            raise AccountNotFound(f"no user {username!r}")
        return User(**row)

    async def set_admin(self, username: str, is_admin: bool) -> User:
        row = await self.db.fetchone(
            f"UPDATE users SET is_admin = %s WHERE username = %s RETURNING {_USER}",
            (is_admin, username),
        )
        if row is None:
            raise AccountNotFound(f"no user {username!r}")
        return User(**row)

    async def list_users(self) -> list[User]:
        rows = await self.db.fetchall(f"SELECT {_USER} FROM users ORDER BY username")
        return [User(**r) for r in rows]

    async def password_hash(self, username: str) -> tuple[User | None, str | None]:
        row = await self.db.fetchone(
            f"SELECT {_USER}, password_hash FROM users WHERE username = %s", (username,)
        )
        if row is None:
            return None, None
        hashed = row.pop("password_hash")
        return User(**row), hashed

    async def user_by_name(self, username: str) -> User | None:
        row = await self.db.fetchone(f"SELECT {_USER} FROM users WHERE username = %s", (username,))
        return User(**row) if row else None

    async def user_count(self) -> int:
        row = await self.db.fetchone("SELECT count(*) AS n FROM users")
        return row["n"] if row else 0

    async def create_project(
        self, name: str, git_url: str, default_branch: str = "main"
    ) -> Project:
        _check_name("project", name)
        if not git_url:
            raise AccountError("a project needs a git URL")
        try:
            row = await self.db.fetchone(
                f"INSERT INTO projects (name, git_url, default_branch) VALUES (%s, %s, %s)"
                f" RETURNING {_PROJECT}",
                (name, git_url, default_branch),
            )
        except psycopg.errors.UniqueViolation:
            raise AccountError(f"project {name!r} exists already") from None
        assert row is not None
        return Project(**row)

    async def update_project(self, name: str, *, git_url: str, default_branch: str) -> Project:
        if not git_url or not default_branch:
            raise AccountError("a project needs a git URL and a default branch")
        row = await self.db.fetchone(
            f"UPDATE projects SET git_url = %s, default_branch = %s WHERE name = %s"
            f" RETURNING {_PROJECT}",
            (git_url, default_branch, name),
        )
        if row is None:
            raise AccountNotFound(f"no project {name!r}")
        return Project(**row)

    async def project_by_name(self, name: str) -> Project | None:
        row = await self.db.fetchone(f"SELECT {_PROJECT} FROM projects WHERE name = %s", (name,))
        return Project(**row) if row else None

    async def add_member(self, project: str, username: str, role: str) -> None:
        check_role(role)
        count = await self.db.execute(
            "INSERT INTO project_members (project_id, user_id, role)"
            " SELECT p.id, u.id, %s FROM projects p, users u WHERE p.name = %s AND u.username = %s"
            " ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role",
            (role, project, username),
        )
        if not count:
            raise AccountNotFound(f"no project {project!r} or no user {username!r}")

    async def role_of(self, user: User, project_id: int) -> str | None:
        """The user's role on the project; admins are admin everywhere."""
        if user.is_admin:
            return "admin"
        row = await self.db.fetchone(
            "SELECT role FROM project_members WHERE project_id = %s AND user_id = %s",
            (project_id, user.id),
        )
        return row["role"] if row else None

    async def projects_of(self, user: User) -> list[tuple[Project, str]]:
        if user.is_admin:
            rows = await self.db.fetchall(f"SELECT {_PROJECT} FROM projects ORDER BY name")
            return [(Project(**r), "admin") for r in rows]
        rows = await self.db.fetchall(
            "SELECT p.id, p.name, p.git_url, p.default_branch, p.protect_default_branch, m.role"
            " FROM projects p JOIN project_members m ON m.project_id = p.id"
            " WHERE m.user_id = %s ORDER BY p.name",
            (user.id,),
        )
        return [(Project(**{k: v for k, v in r.items() if k != "role"}), r["role"]) for r in rows]

    async def list_projects(self) -> list[Project]:
        rows = await self.db.fetchall(f"SELECT {_PROJECT} FROM projects ORDER BY name")
        return [Project(**r) for r in rows]

    async def members_of(self, project: str) -> list[tuple[str, str]]:
        """(username, role) of every member of the project, by name."""
        if await self.project_by_name(project) is None:
            raise AccountNotFound(f"no project {project!r}")
        rows = await self.db.fetchall(
            "SELECT u.username, m.role FROM project_members m"
            " JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id"
            " WHERE p.name = %s ORDER BY u.username",
            (project,),
        )
        return [(r["username"], r["role"]) for r in rows]

    async def set_role(self, project: str, username: str, role: str) -> str:
        """Change an existing member's role; returns the role they had."""
        check_role(role)
        row = await self.db.fetchone(
            "UPDATE project_members m SET role = %s FROM projects p, users u,"
            " project_members old"
            " WHERE p.id = m.project_id AND u.id = m.user_id AND p.name = %s"
            " AND u.username = %s AND old.project_id = m.project_id AND old.user_id = m.user_id"
            " RETURNING old.role",
            (role, project, username),
        )
        if row is None:
            raise AccountNotFound(f"{username!r} is not a member of {project!r}")
        return str(row["role"])

    async def remove_member(self, project: str, username: str) -> None:
        count = await self.db.execute(
            "DELETE FROM project_members m USING projects p, users u"
            " WHERE p.id = m.project_id AND u.id = m.user_id AND p.name = %s"
            " AND u.username = %s",
            (project, username),
        )
        if not count:
            raise AccountNotFound(f"{username!r} is not a member of {project!r}")

    async def delete_user(self, name: str) -> None:
        """Delete the user's row; everything keyed on the user goes with it (the schema's
        ON DELETE CASCADE), invite rows they accepted keep the invite (SET NULL)."""
        if not await self.db.execute("DELETE FROM users WHERE username = %s", (name,)):
            raise AccountNotFound(f"no user {name!r}")

    async def delete_project(self, name: str) -> None:
        """Delete the project's row; members, sessions and its secrets go with it."""
        if not await self.db.execute("DELETE FROM projects WHERE name = %s", (name,)):
            raise AccountNotFound(f"no project {name!r}")
