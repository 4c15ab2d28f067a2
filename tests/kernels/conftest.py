"""Real warehouses for the kernel tests: a DuckDB file and a throwaway PostgreSQL database.

PostgreSQL is the machine's server at 127.0.0.1:5432 (user postgres, trust auth); each test
session creates its own database with a random name and drops it at the end, so parallel
runs by other people do not collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

PG_HOST = os.environ.get("IDE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("IDE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("IDE_TEST_PG_USER", "postgres")

# 2,000 rows with a unique, ordered key, so every cap test has one right answer.
NUMS_ROWS = 2000


@pytest.fixture(scope="session")
def pg_settings() -> Iterator[dict[str, Any]]:
    """Warehouse settings (the pod's `warehouse` dict) for a fresh database with `nums`."""
    name = f"ide_kernels_test_{secrets.token_hex(4)}"
    admin = dict(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    settings = {"type": "postgres", **admin, "dbname": name, "password": ""}
    with psycopg.connect(**{**admin, "dbname": name}, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE nums AS SELECT n::int AS n, 'row ' || n AS label "
            f"FROM generate_series(1, {NUMS_ROWS}) AS n"
        )
        conn.execute("CREATE SEQUENCE nums_seq")
    try:
        yield settings
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def duckdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB warehouse file holding `nums` (same content as the PostgreSQL one)."""
    path = tmp_path_factory.mktemp("duckdb") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "CREATE TABLE nums AS SELECT range::INTEGER AS n, 'row ' || range AS label "
            f"FROM range(1, {NUMS_ROWS + 1})"
        )
    return path


@pytest.fixture(scope="session")
def duckdb_settings(duckdb_path: Path) -> dict[str, Any]:
    return {"type": "duckdb", "path": str(duckdb_path)}
