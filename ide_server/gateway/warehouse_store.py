"""Projects' connections and developers' credentials in the metadata database.

The connection is a row of ``project_connections``; a developer's credentials are a row of
``dev_credentials`` (login, schema, threads) plus, when they set one, their password as a
sealed ``warehouse_password`` secret owned by (user, project). What a pod gets is
assembled here at its start, from its own project's rows only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from ..db import Database
from .credentials import WAREHOUSE_PASSWORD, Credentials
from .warehouse_config import InvalidSettings, check_credentials, pod_warehouse

log = logging.getLogger(__name__)


class WarehouseStore:
    def __init__(self, db: Database, credentials: Credentials) -> None:
        self.db = db
        self.credentials = credentials

    async def connection(self, project_id: int) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            "SELECT settings FROM project_connections WHERE project_id = %s", (project_id,)
        )
        return dict(row["settings"]) if row else None

    async def set_connection(
        self, project_id: int, connection: Mapping[str, Any], actor: str | None
    ) -> None:
        await self.db.execute(
            "INSERT INTO project_connections (project_id, settings, updated_by)"
            " VALUES (%s, %s, %s) ON CONFLICT (project_id) DO UPDATE"
            " SET settings = EXCLUDED.settings, updated_by = EXCLUDED.updated_by,"
            " updated_at = now()",
            (project_id, Jsonb(dict(connection)), actor),
        )

    async def set_connection_if_none(self, project_id: int, connection: Mapping[str, Any]) -> bool:
        """Set the connection unless the project has one; True if it was set."""
        return bool(
            await self.db.execute(
                "INSERT INTO project_connections (project_id, settings, updated_by)"
                " VALUES (%s, %s, 'ide-server') ON CONFLICT (project_id) DO NOTHING",
                (project_id, Jsonb(dict(connection))),
            )
        )

    async def delete_connection(self, project_id: int) -> bool:
        return bool(
            await self.db.execute(
                "DELETE FROM project_connections WHERE project_id = %s", (project_id,)
            )
        )

    async def credentials_of(self, user_id: int, project_id: int) -> dict[str, Any]:
        """The developer's stored settings (no password) and whether a password is set."""
        row = await self.db.fetchone(
            "SELECT settings FROM dev_credentials WHERE user_id = %s AND project_id = %s",
            (user_id, project_id),
        )
        settings = dict(row["settings"]) if row else {}
        sealed = await self.db.fetchone(
            "SELECT 1 AS one FROM secrets WHERE kind = %s AND user_id = %s AND project_id = %s",
            (WAREHOUSE_PASSWORD, user_id, project_id),
        )
        return {
            "user": settings.get("user"),
            "schema": settings.get("schema"),
            "threads": settings.get("threads"),
            "password_set": sealed is not None,
        }

    async def set_credentials(
        self, user_id: int, project_id: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Replace the developer's settings from ``body`` (see check_credentials)."""
        settings, password, clear = check_credentials(body)
        await self.db.execute(
            "INSERT INTO dev_credentials (user_id, project_id, settings) VALUES (%s, %s, %s)"
            " ON CONFLICT (project_id, user_id) DO UPDATE SET settings = EXCLUDED.settings,"
            " updated_at = now()",
            (user_id, project_id, Jsonb(settings)),
        )
        if password is not None:
            await self.credentials.put(
                WAREHOUSE_PASSWORD, password, user_id=user_id, project_id=project_id
            )
        elif clear:
            await self.credentials.delete(
                WAREHOUSE_PASSWORD, user_id=user_id, project_id=project_id
            )
        return await self.credentials_of(user_id, project_id)

    async def delete_credentials(self, user_id: int, project_id: int) -> bool:
        removed = await self.db.execute(
            "DELETE FROM dev_credentials WHERE user_id = %s AND project_id = %s",
            (user_id, project_id),
        )
        sealed = await self.credentials.delete(
            WAREHOUSE_PASSWORD, user_id=user_id, project_id=project_id
        )
        return bool(removed) or sealed

    async def password(self, user_id: int, project_id: int) -> str | None:
        return await self.credentials.get(
            WAREHOUSE_PASSWORD, user_id=user_id, project_id=project_id
        )

    async def for_pod(self, user_id: int, username: str, project_id: int) -> dict[str, Any]:
        """PodEnv.warehouse for (user, project): empty when the project has no connection."""
        connection = await self.connection(project_id)
        if connection is None:
            return {}
        row = await self.db.fetchone(
            "SELECT settings FROM dev_credentials WHERE user_id = %s AND project_id = %s",
            (user_id, project_id),
        )
        settings = dict(row["settings"]) if row else {}
        password = None
        if connection["type"] == "postgres":
            password = await self.password(user_id, project_id)
        return pod_warehouse(connection, settings, password, username)

    async def migrate_user_logins(self) -> int:
        """Move the per-user logins of ``PUT /api/me/warehouse-credentials`` (removed) onto
        every PostgreSQL project the user may open and has no credentials for; returns how
        many users' logins were moved."""
        rows = await self.db.fetchall(
            "SELECT s.user_id, u.is_admin FROM secrets s JOIN users u ON u.id = s.user_id"
            " WHERE s.kind = %s AND s.project_id IS NULL",
            (WAREHOUSE_PASSWORD,),
        )
        for row in rows:
            user_id = row["user_id"]
            sealed = await self.credentials.get(WAREHOUSE_PASSWORD, user_id=user_id)
            if sealed is not None:
                await self._spread_login(user_id, bool(row["is_admin"]), json.loads(sealed))
            await self.credentials.delete(WAREHOUSE_PASSWORD, user_id=user_id)
        return len(rows)

    async def _spread_login(self, user_id: int, is_admin: bool, login: dict[str, Any]) -> None:
        projects = await self.db.fetchall(
            "SELECT c.project_id FROM project_connections c WHERE c.settings->>'type' ="
            " 'postgres' AND (%s OR EXISTS (SELECT 1 FROM project_members m"
            " WHERE m.project_id = c.project_id AND m.user_id = %s))"
            " AND NOT EXISTS (SELECT 1 FROM dev_credentials d"
            " WHERE d.project_id = c.project_id AND d.user_id = %s)",
            (is_admin, user_id, user_id),
        )
        body = {k: login[k] for k in ("user", "password") if login.get(k)}
        for project in projects:
            try:
                await self.set_credentials(user_id, project["project_id"], body)
            except InvalidSettings as exc:
                log.warning("a stored warehouse login was not moved: %s", exc)
