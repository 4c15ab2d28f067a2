"""Previews of compiled dbt SQL on a developer's DuckDB dev database (child side).

DuckDB lets one process write a file or many read it, never both. So a preview runs in
whichever process may open the dev database right now:

- no write command running: the warm worker opens it read-only (the warehouse attached
  read-only beside it), runs the preview and closes it again, so a build can start;
- a write command running: its own process, which holds the file open for writing, runs
  the preview on a second connection to the same database instance (DuckDB connections
  of one process share the instance and its MVCC snapshots), so no preview ever meets
  "Could not set lock on file".

Both reuse the SQL kernel's adapter loop (:class:`kernels.warehouses.base.Warehouse`:
batches, cap, statement timeout, cancel). Rows go to the channel and nowhere else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from kernels.sql.guard import QueryRefused, guard
from kernels.warehouses.base import Columns, Done, Rows, Warehouse, WarehouseError
from kernels.warehouses.duckdb import _DuckDBCursor, _translate

from .profiles import DEV_DATABASE

ConnectionSource = Callable[[], duckdb.DuckDBPyConnection]


class DevDatabase(Warehouse):
    """Runs guarded SQL on connections from ``source``; closes each after its preview."""

    dialect = "duckdb"

    def __init__(self, source: ConnectionSource, *, close_after: bool) -> None:
        super().__init__({})
        self._source = source
        self._close_after = close_after
        self._conn: duckdb.DuckDBPyConnection | None = None

    def connect(self) -> None:
        pass  # opened per preview

    def _close_connection(self) -> None:
        pass  # each preview's connection is closed after it

    @contextmanager
    def _open(self, sql: str, limit: int) -> Iterator[Any]:
        try:
            conn = self._source()
        except duckdb.Error as exc:
            raise WarehouseError(f"could not open the dev database: {exc}") from None
        self._conn = conn
        try:
            yield _DuckDBCursor(conn.execute(sql))
        except duckdb.Error as exc:
            raise _translate(exc, sql) from None
        finally:
            self._conn = None
            if self._close_after:
                conn.close()

    def _interrupt(self) -> None:
        conn = self._conn
        if conn is not None:
            conn.interrupt()


def open_read_only(dev_path: Path | None, attach: list[list[str]]) -> duckdb.DuckDBPyConnection:
    """The dev database (or an empty one of the same name) with the warehouse attached."""
    conn = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
    try:
        if dev_path is not None and dev_path.is_file():
            conn.execute(f"ATTACH '{_quote(str(dev_path))}' AS {DEV_DATABASE} (READ_ONLY)")
        else:  # nothing built yet: refs to models fail as "does not exist", sources work
            conn.execute(f"ATTACH ':memory:' AS {DEV_DATABASE}")
        for path, alias in attach:
            conn.execute(f"ATTACH '{_quote(path)}' AS \"{alias}\" (READ_ONLY)")
        conn.execute(f"USE {DEV_DATABASE}")
        # As in the SQL kernel: a preview reads no other file and cannot undo this.
        conn.execute("SET enable_external_access = false")
        conn.execute("SET enable_progress_bar = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


def _quote(text: str) -> str:
    return text.replace("'", "''")


class PreviewRunner:
    """Guard, run and stream previews; one at a time, cancellable from another thread."""

    def __init__(self, database: DevDatabase, send: Callable[[dict[str, Any]], None]) -> None:
        self._db = database
        self._send = send
        self._lock = threading.Lock()
        self._running: str | None = None

    def cancel(self, request_id: str) -> None:
        if self._running == request_id:
            self._db.cancel()

    def run(self, request_id: str, sql: str, cap: int) -> None:
        with self._lock:
            self._running = request_id
            try:
                self._stream(request_id, sql, cap)
            finally:
                self._running = None

    def _stream(self, request_id: str, sql: str, cap: int) -> None:
        started = time.monotonic()
        try:
            guarded = guard(sql, "duckdb", cap=cap)
        except QueryRefused as exc:
            position = exc.position.to_json() if exc.position else None
            self._send(
                {"id": request_id, "event": "refused", "message": exc.message, "position": position}
            )
            return
        try:
            for event in self._db.run(guarded.sql, guarded.cap):
                self._send({"id": request_id, **_payload(event, started)})
        except WarehouseError as exc:
            self._send(
                {
                    "id": request_id,
                    "event": "error",
                    "message": exc.message,
                    "cancelled": exc.cancelled,
                }
            )


def _payload(event: Any, started: float) -> dict[str, Any]:
    if isinstance(event, Columns):
        return {
            "event": "columns",
            "columns": [{"name": c.name, "type": c.type} for c in event.columns],
        }
    if isinstance(event, Rows):
        return {"event": "rows", "rows": event.rows}
    assert isinstance(event, Done)
    return {
        "event": "done",
        "row_count": event.row_count,
        "truncated": event.truncated,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
