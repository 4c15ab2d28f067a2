"""DuckDB, the embedded warehouse: a file on this machine, opened read-only and sealed.

A preview must not read other files on the machine (``read_csv('/etc/passwd')``, another
user's volume) or reach the network, so the connection is opened with external access
disabled and its configuration locked (a query cannot ``SET`` its way back). Spilling to
disk is disabled too: a preview's intermediate data must not land in a temp directory.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from .base import Column, ResultCursor, Warehouse, WarehouseError

# DuckDB allows one writer *or* any number of readers per file across processes. The
# kernel's file is the warehouse, which dbt only ever attaches read-only (it builds into
# the developer's own dev database, see docs/dbt.md), so the connection stays open between
# previews: reopening costs ~25 ms and a cold cache makes the next previews slower still.
# Where something else writes the warehouse file, the warehouse setting
# ``idle_close_seconds`` releases it after that many idle seconds (0, the default: never).
DEFAULT_IDLE_CLOSE_SECONDS = 0.0
DEFAULT_MEMORY_LIMIT = "1GB"

# DuckDB echoes the failing line and marks the spot: "LINE 1: select x from t\n  ^^^".
_LINE_ECHO = re.compile(r"\n*LINE (\d+): (.*)\n( *)\^", re.DOTALL)


class DuckDBWarehouse(Warehouse):
    dialect = "duckdb"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self.path = Path(str(settings.get("path", "")))
        self.idle_close_seconds = float(
            settings.get("idle_close_seconds", DEFAULT_IDLE_CLOSE_SECONDS)
        )
        self._config: dict[str, Any] = {
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "temp_directory": "",
            "memory_limit": str(settings.get("memory_limit", DEFAULT_MEMORY_LIMIT)),
        }
        if settings.get("threads"):
            self._config["threads"] = int(settings["threads"])
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._conn_lock = threading.Lock()
        self._idle_timer: threading.Timer | None = None
        self._busy = False

    def connect(self) -> None:
        with self._conn_lock:
            self._ensure_open()

    def _close_connection(self) -> None:
        with self._conn_lock:
            self._close_locked()

    @contextmanager
    def _open(self, sql: str, limit: int) -> Iterator[ResultCursor]:
        with self._conn_lock:
            conn = self._ensure_open()
            self._busy = True
        try:
            # execute() streams: rows are produced as fetchmany() asks for them, so a
            # preview of a huge table holds one batch in memory, not the table.
            cursor = conn.execute(sql)
            yield _DuckDBCursor(cursor)
        except duckdb.Error as exc:
            raise _translate(exc, sql) from None
        finally:
            with self._conn_lock:
                self._busy = False
                self._schedule_idle_close()

    def _interrupt(self) -> None:
        conn = self._conn
        if conn is not None:
            conn.interrupt()

    def _ensure_open(self) -> duckdb.DuckDBPyConnection:
        if self._conn is not None:
            return self._conn
        if not self.path.is_file():
            raise WarehouseError(f"the DuckDB warehouse {self.path} does not exist")
        try:
            conn = duckdb.connect(str(self.path), read_only=True, config=self._config)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseError(
                    "the DuckDB warehouse is being written by another process (a dbt run?); "
                    "try again when it finishes"
                ) from None
            raise WarehouseError(f"could not open the DuckDB warehouse: {exc}") from None
        except duckdb.Error as exc:
            raise WarehouseError(f"could not open the DuckDB warehouse: {exc}") from None
        # The progress bar writes to stdout, which the kernel would forward to IOPub; it is
        # a per-connection setting, so it is set here. Then the configuration is locked:
        # from now on no query can change it (external access stays off).
        conn.execute("SET enable_progress_bar = false")
        conn.execute("SET lock_configuration = true")
        self._conn = conn
        return conn

    def _close_locked(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _schedule_idle_close(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self.idle_close_seconds <= 0:
            return
        self._idle_timer = threading.Timer(self.idle_close_seconds, self._close_if_idle)
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _close_if_idle(self) -> None:
        with self._conn_lock:
            if not self._busy:
                self._close_locked()


class _DuckDBCursor:
    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self._cursor = cursor

    def columns(self) -> list[Column]:
        description = self._cursor.description or []
        return [Column(name=str(d[0]), type=str(d[1])) for d in description]

    def fetch(self, size: int) -> Sequence[Sequence[Any]]:
        try:
            return self._cursor.fetchmany(size)
        except duckdb.Error as exc:
            raise _translate(exc, "") from None


def _translate(exc: duckdb.Error, sql: str) -> WarehouseError:
    text = str(exc)
    if isinstance(exc, duckdb.InterruptException):
        return WarehouseError("the query was interrupted", cancelled=True)
    offset = _error_offset(text, sql) if sql else None
    # The echoed line is the SQL the kernel rewrote; the position says where instead.
    message = re.split(r"\n+LINE \d+: ", text, maxsplit=1)[0]
    return WarehouseError(message.strip(), offset=offset)


def _error_offset(text: str, sql: str) -> int | None:
    """The 0-based offset in ``sql`` that DuckDB's caret points at, when it gave one."""
    match = _LINE_ECHO.search(text)
    if match is None:
        return None
    line_number, echoed, indent = int(match.group(1)), match.group(2), match.group(3)
    lines = sql.split("\n")
    if not 1 <= line_number <= len(lines):
        return None
    line = lines[line_number - 1]
    column = len(indent) - len(f"LINE {line_number}: ")
    # Long lines are echoed as a window with "..." on either side.
    if echoed.startswith("..."):
        echoed, column = echoed[3:], column - 3
    echoed = echoed.removesuffix("...")
    start = line.find(echoed) if echoed else 0
    if start < 0 or column < 0:
        return None
    line_start = sum(len(previous) + 1 for previous in lines[: line_number - 1])
    return line_start + start + column
