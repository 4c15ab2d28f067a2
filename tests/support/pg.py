"""A fresh PostgreSQL database per test run: the machine's server, or an embedded one."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import psycopg

from ide_server.db import Database
from ide_server.gateway.migrations import MIGRATIONS

MACHINE_SERVER = os.environ.get(
    "IDE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin_url(tmp: Path) -> tuple[str, object | None]:
    try:
        with psycopg.connect(MACHINE_SERVER, connect_timeout=3):
            return MACHINE_SERVER, None
    except psycopg.OperationalError:
        import pgserver

        server = pgserver.get_server(tmp / "pg", cleanup_mode="stop")
        return server.get_uri(), server


@asynccontextmanager
async def migrated_database(tmp: Path) -> AsyncIterator[Database]:
    """A temporary database with the gateway's schema, opened; closed and dropped after."""
    with temporary_database(tmp) as url:
        database = Database(url, migrations=MIGRATIONS)
        await database.open()
        try:
            yield database
        finally:
            await database.close()


@contextmanager
def temporary_database(tmp: Path) -> Iterator[str]:
    """Create a database with a random name, yield its URL, drop it afterwards."""
    admin, server = _admin_url(tmp)
    name = f"ide_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    query = ""
    if "?" in admin:
        admin_path, query = admin.split("?", 1)
        base = admin_path.rpartition("/")[0]
        query = "?" + query
    try:
        yield f"{base}/{name}{query}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
