""" "Test connection": a real connection with a developer's settings, answered in a sentence.

PostgreSQL: psycopg connects with a short timeout and runs ``select 1``; DuckDB: every
shared database of the connection is opened read-only. Runs in a worker thread; the
message names the host or file and the reason, never the password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .warehouse_config import NO_CONNECTION

CONNECT_TIMEOUT = 5  # seconds


async def try_connection(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``{"ok", "message"}`` for the pod settings ``settings`` (see pod_warehouse)."""
    if not settings:
        return {"ok": False, "message": NO_CONNECTION}
    check = _postgres if settings.get("type") == "postgres" else _duckdb
    ok, message = await asyncio.to_thread(check, settings)
    return {"ok": ok, "message": message}


def _postgres(settings: Mapping[str, Any]) -> tuple[bool, str]:
    import psycopg

    where = f"{settings['host']}:{settings['port']}/{settings['dbname']} as {settings['user']}"
    params = {
        k: settings[k] for k in ("host", "port", "dbname", "user", "sslmode") if k in settings
    }
    try:
        with psycopg.connect(
            **params,
            password=settings.get("password") or None,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="ide-server-connection-test",
        ) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        lines = str(exc).strip().splitlines() or ["unknown error"]
        reason = lines[0].removeprefix("connection failed: ")
        return False, f"could not connect to {where}: {reason}"
    return True, f"connected to {where}; dbt builds into schema {settings['schema']}"


def _duckdb(settings: Mapping[str, Any]) -> tuple[bool, str]:
    import duckdb

    attach = list(settings.get("attach") or ())
    for item in attach:
        path = Path(item["path"])
        if not path.is_file():
            return False, f"the shared database {path} does not exist"
        try:
            conn = duckdb.connect(
                str(path), read_only=True, config={"enable_external_access": False}
            )
            try:
                conn.execute("select 1")
            finally:
                conn.close()
        except duckdb.Error as exc:
            reason = (str(exc).strip().splitlines() or ["unknown error"])[0]
            return False, f"could not open the shared database {path} read-only: {reason}"
    names = ", ".join(f"{a['alias']} ({a['path']})" for a in attach)
    shared = f"; attached read-only: {names}" if attach else ""
    return True, f"DuckDB needs no credentials: you build into your own dev database{shared}"
