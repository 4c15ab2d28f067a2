"""The metadata database: a psycopg connection pool that applies the owner's migrations.

Core: the schema itself belongs to the gateway (``ide_server/gateway/migrations.py``),
which passes its migrations in; this module knows no table.
"""

from __future__ import annotations

import asyncio
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
# How long a caller waits for a connection before the database counts as unavailable.
_CHECKOUT_TIMEOUT = 1.0
# While it is unavailable: how often a fresh connection is tried, and how long each may take.
_PROBE_INTERVAL = 0.25
_PROBE_TIMEOUT = 1


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
        self._sizes = (min_size, max_size)
        self._pool = self._new_pool()
        self._closed = False
        # Set while the database does not answer: callers fail at once instead of each
        # waiting out a checkout, and a probe notices the moment it answers again.
        self._outage: asyncio.Task[None] | None = None

    def _new_pool(self) -> AsyncConnectionPool:
        return AsyncConnectionPool(
            self.url,
            min_size=self._sizes[0],
            max_size=self._sizes[1],
            open=False,
            kwargs={"row_factory": dict_row, "autocommit": True},
            check=AsyncConnectionPool.check_connection,
        )

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=30)
        await self.migrate()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._outage is not None:
                self._outage.cancel()
                await asyncio.gather(self._outage, return_exceptions=True)
            await self._pool.close()

    @property
    def available(self) -> bool:
        return self._outage is None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._outage is not None:
            raise DatabaseUnavailable("the metadata database is not answering")
        try:
            async with self._pool.connection(timeout=_CHECKOUT_TIMEOUT) as conn:
                yield conn
        except (psycopg.OperationalError, TimeoutError) as exc:
            self._begin_outage()
            raise DatabaseUnavailable(str(exc)) from exc

    def _begin_outage(self) -> None:
        if self._outage is None and not self._closed:
            log.warning(
                "the metadata database is not answering; retrying every %ss", _PROBE_INTERVAL
            )
            self._outage = asyncio.ensure_future(self._await_recovery())

    async def _await_recovery(self) -> None:
        """Probe with fresh connections until one works, then start over with a new pool.

        The old pool's connections are dead and its own reconnection backs off for tens of
        seconds; a new pool is ready as soon as the database is.
        """
        while True:
            await asyncio.sleep(_PROBE_INTERVAL)
            try:
                probe = await psycopg.AsyncConnection.connect(
                    self.url, connect_timeout=_PROBE_TIMEOUT, autocommit=True
                )
            except (psycopg.OperationalError, OSError):
                continue
            await probe.close()
            break
        old, self._pool = self._pool, self._new_pool()
        await self._pool.open(wait=False)
        self._outage = None
        log.info("the metadata database answers again")
        await old.close(timeout=1)

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
            if current < len(self.migrations):
                log.info("applying migrations %d to %d", current + 1, len(self.migrations))
            for version, sql in enumerate(self.migrations, start=1):
                if version <= current:
                    continue
                log.debug("applying migration %d", version)
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES (%s)", (version,)
                )
