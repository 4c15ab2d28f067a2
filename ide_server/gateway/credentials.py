"""Stored secrets of users and projects (git tokens, warehouse passwords), encrypted.

Each value is sealed with :class:`ide_server.secrets.SecretBox` using its row id as the
associated data, so a ciphertext copied onto another row does not decrypt.
"""

from __future__ import annotations

from ..db import Database
from ..secrets import SecretBox

GIT_TOKEN = "git_token"  # noqa: S105 - a user's personal access token, or a project's deploy token
WAREHOUSE_PASSWORD = "warehouse_password"  # noqa: S105 - a user's development credentials
OIDC_CLIENT_SECRET = "oidc_client_secret"  # noqa: S105 - the gateway's secret at the provider
KINDS = (GIT_TOKEN, WAREHOUSE_PASSWORD, OIDC_CLIENT_SECRET)


def _aad(row_id: int) -> str:
    return f"secret:{row_id}"


class Credentials:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    async def put(
        self, kind: str, value: str, *, user_id: int | None = None, project_id: int | None = None
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown secret kind {kind}")
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO secrets (kind, user_id, project_id, value) VALUES (%s, %s, %s, '')"
                " ON CONFLICT (kind, coalesce(user_id, 0), coalesce(project_id, 0))"
                " DO UPDATE SET updated_at = now() RETURNING id",
                (kind, user_id, project_id),
            )
            row = await cur.fetchone()
            assert row is not None
            sealed = self.box.encrypt(value, _aad(row["id"]))
            await conn.execute("UPDATE secrets SET value = %s WHERE id = %s", (sealed, row["id"]))

    async def get(
        self, kind: str, *, user_id: int | None = None, project_id: int | None = None
    ) -> str | None:
        row = await self.db.fetchone(
            "SELECT id, value FROM secrets WHERE kind = %s AND coalesce(user_id, 0) = %s"
            " AND coalesce(project_id, 0) = %s",
            (kind, user_id or 0, project_id or 0),
        )
        if row is None or not row["value"]:
            return None
        return self.box.decrypt(row["value"], _aad(row["id"]))

    async def delete(
        self, kind: str, *, user_id: int | None = None, project_id: int | None = None
    ) -> bool:
        return bool(
            await self.db.execute(
                "DELETE FROM secrets WHERE kind = %s AND coalesce(user_id, 0) = %s"
                " AND coalesce(project_id, 0) = %s",
                (kind, user_id or 0, project_id or 0),
            )
        )

    async def rotate_all(self) -> int:
        """Re-seal every secret under the current master key; returns how many changed."""
        rows = await self.db.fetchall("SELECT id, value FROM secrets WHERE value <> ''")
        changed = 0
        for row in rows:
            if self.box.needs_rotation(row["value"]):
                sealed = self.box.rotate(row["value"], _aad(row["id"]))
                await self.db.execute(
                    "UPDATE secrets SET value = %s WHERE id = %s", (sealed, row["id"])
                )
                changed += 1
        # Pod tokens of sessions that may still be proxied are sealed with the same box.
        rows = await self.db.fetchall(
            "SELECT id, pod_token FROM sessions WHERE pod_token IS NOT NULL"
            " AND state IN ('pending', 'starting', 'ready', 'stopping')"
        )
        for row in rows:
            if self.box.needs_rotation(row["pod_token"]):
                sealed = self.box.rotate(row["pod_token"], f"session:{row['id']}")
                await self.db.execute(
                    "UPDATE sessions SET pod_token = %s WHERE id = %s", (sealed, row["id"])
                )
                changed += 1
        return changed
