"""PostgreSQL through psycopg 3: read-only transactions, a statement timeout, and a
server-side cursor whose rows are streamed in batches.

Every preview runs in its own ``BEGIN READ ONLY`` transaction that sets its own
``statement_timeout`` with ``SET LOCAL``: a query that calls ``set_config(...)`` can change
neither beyond its own transaction.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors, sql

from .base import BATCH_ROWS, Column, ResultCursor, Warehouse, WarehouseError

DEFAULT_CONNECT_TIMEOUT = 10  # seconds
# Rows per chunk of the streamed FETCH; libpq before 17 streams one row at a time.
_STREAM_CHUNK = BATCH_ROWS if psycopg.pq.version() >= 170000 else 1
_CONNECTION_KEYS = ("host", "port", "dbname", "user", "password", "sslmode")


class PostgresWarehouse(Warehouse):
    dialect = "postgres"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        super().__init__(settings)
        self._params: dict[str, Any] = {
            k: settings[k] for k in _CONNECTION_KEYS if settings.get(k) not in (None, "")
        }
        self._connect_timeout = int(settings.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
        self._conn: psycopg.Connection[Any] | None = None
        self._cursor_names = itertools.count(1)
        self._conn_lock = threading.Lock()

    @property
    def _where(self) -> str:
        p = self._params
        return (
            f"{p.get('host', 'localhost')}:{p.get('port', 5432)}/{p.get('dbname', '')}"
            f" as {p.get('user', '')}"
        )

    def connect(self) -> None:
        with self._conn_lock:
            self._ensure_connected()

    def _close_connection(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _ensure_connected(self) -> psycopg.Connection[Any]:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            conn.close()  # broken, e.g. the server restarted: start over
        try:
            conn = psycopg.connect(
                **self._params,
                connect_timeout=self._connect_timeout,
                application_name="ide-sql-preview",
                autocommit=False,
            )
        except psycopg.Error as exc:
            # psycopg's message names the host and the reason, never the password.
            reason = (str(exc).strip().splitlines() or [""])[0].removeprefix("connection failed: ")
            raise WarehouseError(
                f"could not connect to the PostgreSQL warehouse at {self._where}: {reason}"
            ) from None
        conn.read_only = True  # every transaction starts with BEGIN READ ONLY
        self._conn = conn
        return conn

    @contextmanager
    def _open(self, query: str, limit: int) -> Iterator[ResultCursor]:
        # DECLARE accepts only a query (never a write, DDL or a second statement), whatever
        # the guard let through. One FETCH of everything the cap allows, streamed in
        # batches (libpq's chunked-rows mode), then costs one round trip instead of one per
        # batch, and holds one batch in memory at a time as before.
        name = f"ide_preview_{next(self._cursor_names)}"
        declare = f'DECLARE "{name}" NO SCROLL CURSOR FOR '
        conn, cursor = self._declare(declare + query, len(declare))
        stream = None
        try:
            stream = _StreamedCursor(cursor, name, limit)
            yield stream
        except psycopg.Error as exc:
            raise self._translate(exc, len(declare)) from None
        finally:
            if stream is not None:
                stream.close()
            _end_transaction(conn)

    def _declare(
        self, declare: str, prefix_length: int
    ) -> tuple[psycopg.Connection[Any], psycopg.Cursor[Any]]:
        """A connection inside a fresh read-only transaction with the timeout set, and the
        preview's cursor declared in it.

        BEGIN READ ONLY, SET LOCAL statement_timeout and DECLARE travel together in one
        pipeline: one round trip to the server instead of three.
        """
        timeout = sql.SQL("SET LOCAL statement_timeout = {}").format(
            sql.Literal(int(self.statement_timeout * 1000))
        )
        for attempt in (1, 2):
            with self._conn_lock:
                conn = self._ensure_connected()
            try:
                with conn.pipeline():
                    conn.execute(timeout)  # implicitly BEGIN READ ONLY
                    cursor = conn.cursor()
                    cursor.execute(declare)
                return conn, cursor
            except psycopg.OperationalError as exc:
                # A connection the server dropped while idle (restart, idle timeout) is only
                # noticed now; nothing ran, so one fresh connection is safe to try.
                if attempt == 2 or not conn.broken:
                    _end_transaction(conn)
                    raise self._translate(exc, prefix_length) from None
            except psycopg.Error as exc:
                _end_transaction(conn)
                raise self._translate(exc, prefix_length) from None
        raise AssertionError("unreachable")

    def _interrupt(self) -> None:
        conn = self._conn
        if conn is not None and not conn.closed:
            try:
                conn.cancel_safe(timeout=5.0)
            except psycopg.Error:
                pass  # the statement may have just finished; nothing left to cancel

    def _translate(self, exc: psycopg.Error, prefix_length: int = 0) -> WarehouseError:
        if isinstance(exc, errors.QueryCanceled):
            if "statement timeout" in str(exc):
                return WarehouseError(
                    f"the query ran longer than the statement timeout "
                    f"({self.statement_timeout:g} s) and was stopped",
                    cancelled=True,
                )
            return WarehouseError("the query was cancelled", cancelled=True)
        if isinstance(exc, psycopg.OperationalError) and (self._conn is None or self._conn.broken):
            return WarehouseError(
                f"lost the connection to the PostgreSQL warehouse at {self._where}; "
                "the next preview reconnects"
            )
        return _query_error(exc, prefix_length)


class _StreamedCursor:
    """The declared cursor's rows, read by one FETCH of ``limit`` rows streamed in chunks."""

    def __init__(self, cursor: psycopg.Cursor[Any], name: str, limit: int) -> None:
        self._cursor = cursor
        self._name = name
        fetch = f'FETCH FORWARD {int(limit)} FROM "{name}"'
        self._rows = cursor.stream(fetch, size=_STREAM_CHUNK)
        self._first: list[Any] = []
        self._unread = limit

    def columns(self) -> list[Column]:
        # The description comes with the first chunk of rows; a result without rows has
        # none, so then an empty FETCH describes the cursor.
        self._first = list(itertools.islice(self._rows, 1))
        if not self._first:
            self._cursor.execute(f'FETCH FORWARD 0 FROM "{self._name}"')
        description = self._cursor.description or []
        return [Column(name=d.name, type=d.type_display) for d in description]

    def fetch(self, size: int) -> Sequence[Sequence[Any]]:
        rows, self._first = self._first, []
        rows += itertools.islice(self._rows, size - len(rows))
        self._unread -= len(rows)
        return rows

    def close(self) -> None:
        if self._unread <= 0:
            # Every row the FETCH can give was read: only the end of the result is left.
            # Reading it is cheap; closing the stream early would cancel the statement
            # through a connection of its own.
            for _ in self._rows:
                pass
        else:  # left early (cancel, an error): psycopg cancels the statement and drains
            self._rows.close()  # type: ignore[attr-defined]


def _end_transaction(conn: psycopg.Connection[Any]) -> None:
    # Rolling back ends the transaction; a read-only one has nothing to commit.
    if conn.closed or conn.broken:
        return
    try:
        conn.rollback()
    except psycopg.Error:
        pass  # the connection died meanwhile; the next preview reconnects


def _query_error(exc: psycopg.Error, prefix_length: int) -> WarehouseError:
    diag = exc.diag
    message = diag.message_primary or str(exc).strip().splitlines()[0]
    if diag.message_detail:
        message += f" ({diag.message_detail})"
    if diag.message_hint:
        message += f". Hint: {diag.message_hint}"
    offset = None
    if diag.statement_position and diag.statement_position.isdigit():
        # PostgreSQL counts characters from 1, in the DECLARE statement.
        offset = int(diag.statement_position) - 1 - prefix_length
        offset = offset if offset >= 0 else None
    return WarehouseError(message, offset=offset)
