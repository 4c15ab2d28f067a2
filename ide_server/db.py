"""The metadata database: a psycopg connection pool that applies the owner's migrations.

Core: the schema itself belongs to the gateway (``ide_server/gateway/migrations.py``),
which passes its migrations in; this module knows no table.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

# Any advisory lock id works as long as it is fixed: migrations of concurrent replicas queue.
_MIGRATION_LOCK = 7_351_001


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached; the gateway answers 503 and retries later."""


class Database:
    """A pool of connections to the metadata database.

    ``open()`` connects and applies ``migrations`` (SQL scripts, numbered from 1 in order,
    each applied once); ``close()`` is idempotent.
    """

    def __init__(
        self,
        url: str,
        *,
        migrations: Sequence[str] = (),
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        self.url = url
        self.migrations = tuple(migrations)
        self._pool = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            kwargs={"row_factory": dict_row, "autocommit": True},
            check=AsyncConnectionPool.check_connection,
        )
        self._closed = False

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=30)
        await self.migrate()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self._pool.connection(timeout=10) as conn:
                yield conn
        except (psycopg.OperationalError, TimeoutError) as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def fetchone(self, sql: str, params: Any = None) -> dict[str, Any] | None:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    async def execute(self, sql: str, params: Any = None) -> int:
        async with self.connection() as conn:
            cur = await conn.execute(sql, params)
            return cur.rowcount

    async def migrate(self) -> None:
        async with self.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_migrations")
            row = await cur.fetchone()
            current = row["v"] if row else 0
            for version, sql in enumerate(self.migrations, start=1):
                if version <= current:
                    continue
                log.info("applying migration %d", version)
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES (%s)", (version,)
                )
