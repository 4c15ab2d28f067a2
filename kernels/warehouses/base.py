"""The interface every warehouse adapter implements, and what a preview yields.

An adapter runs one already-guarded query at a time and streams it: the columns first,
then batches of rows (about 100 rows or 64 KB, whichever comes first), then the end. The
kernel runs it in a worker thread and calls :meth:`Warehouse.cancel` from another thread
when the user cancels, so ``cancel`` must be thread-safe and harmless when idle.
"""

from __future__ import annotations

import abc
import json
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from .deadline import Deadline
from .values import estimate_json_bytes, to_json_rows

log = logging.getLogger(__name__)

BATCH_ROWS = 100
BATCH_BYTES = 64 * 1024
DEFAULT_STATEMENT_TIMEOUT = 60.0  # seconds


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the warehouse's own type name, e.g. BIGINT or numeric(10,2)


@dataclass(frozen=True)
class Columns:
    columns: list[Column]


@dataclass(frozen=True)
class Rows:
    rows: list[list[Any]]  # JSON-ready values
    json_bytes: int = 0  # about how large ``rows`` is as JSON
    # ``rows`` encoded as a JSON array, when measuring them encoded them anyway: sent as
    # is, the rows are not encoded a second time.
    encoded: str | None = None

    def to_json(self) -> str:
        if self.encoded is not None:
            return self.encoded
        return json.dumps(self.rows, ensure_ascii=False)


@dataclass(frozen=True)
class Done:
    row_count: int
    truncated: bool  # the cap cut the result: the query had more rows


Event = Columns | Rows | Done


class WarehouseError(Exception):
    """A failure a person can act on; ``offset`` is 0-based in the executed SQL."""

    def __init__(self, message: str, *, offset: int | None = None, cancelled: bool = False):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.cancelled = cancelled


class ResultCursor(Protocol):
    """A running statement, as the adapters expose it to :meth:`Warehouse.run`."""

    def columns(self) -> list[Column]: ...

    def fetch(self, size: int) -> Sequence[Sequence[Any]]: ...


class Warehouse(abc.ABC):
    """One connection to one warehouse. Constructors do no I/O; ``close`` is idempotent."""

    dialect: ClassVar[str]  # the sqlglot dialect the guard parses and writes

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.statement_timeout = float(settings.get("statement_timeout", DEFAULT_STATEMENT_TIMEOUT))
        self._state = threading.Lock()
        self._running = False
        self._cancelled = False
        self._timed_out = False
        self._generation = 0  # which run a delayed interrupt belongs to
        self._deadline = Deadline("sql-statement-timeout")

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection (or check it still works); raise WarehouseError if not."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection; safe to call twice or before ``connect``."""
        self._deadline.close()
        self._close_connection()

    @abc.abstractmethod
    def _close_connection(self) -> None:
        """Close the driver's connection, if open; safe to call twice."""
        raise NotImplementedError

    @abc.abstractmethod
    def _open(self, sql: str, limit: int) -> AbstractContextManager[ResultCursor]:
        """Start ``sql``, of which at most ``limit`` rows will be fetched; translate driver
        errors into WarehouseError (cursor included)."""
        raise NotImplementedError

    @abc.abstractmethod
    def _interrupt(self) -> None:
        """Stop the statement running right now, from any thread; no-op when idle."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Cancel the running query (thread-safe). The next ``run`` works as usual."""
        with self._state:
            if not self._running:
                return
            self._cancelled = True
            generation = self._generation
        self._interrupt()
        # A cancel that lands between two driver calls interrupts nothing; the run loop
        # sees the flag, and a second interrupt covers a statement that was just starting.
        timer = threading.Timer(0.2, self._interrupt_if_running, (generation,))
        timer.daemon = True
        timer.start()

    def run(self, sql: str, cap: int) -> Iterator[Event]:
        """Run ``sql`` (already guarded), yield Columns, Rows batches, then Done."""
        with self._state:
            self._running, self._cancelled, self._timed_out = True, False, False
            self._generation += 1
            generation = self._generation
        self._deadline.arm(self.statement_timeout, lambda: self._on_deadline(generation))
        finished = False
        try:
            for event in self._stream(sql, cap):
                finished = isinstance(event, Done)
                yield event
        except Exception as exc:
            if not finished:
                if isinstance(exc, WarehouseError):
                    raise self._explain(exc) from None
                raise
            # The result is complete and sent; only ending the statement failed (say, the
            # connection dropped during the ROLLBACK), which the next run recovers from.
            log.warning("ending a finished preview's statement failed: %s", type(exc).__name__)
        finally:
            self._deadline.disarm()
            with self._state:
                self._running = False

    def _stream(self, sql: str, cap: int) -> Iterator[Event]:
        with self._open(sql, cap + 1) as cursor:
            self._raise_if_stopped()
            yield Columns(cursor.columns())
            count, truncated = 0, False
            while True:
                # Ask for one row past the cap, so "more rows exist" needs no second query.
                wanted = min(BATCH_ROWS, cap + 1 - count)
                fetched = cursor.fetch(wanted)
                self._raise_if_stopped()
                rows = to_json_rows(fetched)
                if count + len(rows) > cap:
                    rows, truncated = rows[: cap - count], True
                yield from _split_by_bytes(rows)
                count += len(rows)
                if truncated or len(fetched) < wanted:
                    break
            # Before the cursor closes: the result is complete, and its reader need not
            # wait for the warehouse to wind the statement down (PostgreSQL's ROLLBACK).
            yield Done(row_count=count, truncated=truncated)

    def _raise_if_stopped(self) -> None:
        if self._cancelled or self._timed_out:
            raise WarehouseError("stopped", cancelled=True)

    def _explain(self, exc: WarehouseError) -> WarehouseError:
        # The driver's own message for an interrupted statement differs per warehouse;
        # the person only needs to know whether they cancelled or the timeout struck.
        if self._timed_out:
            return WarehouseError(
                f"the query ran longer than the statement timeout "
                f"({self.statement_timeout:g} s) and was stopped",
                cancelled=True,
            )
        if self._cancelled:
            return WarehouseError("the query was cancelled", cancelled=True)
        return exc

    def _on_deadline(self, generation: int) -> None:
        with self._state:
            if not self._running or generation != self._generation:
                return
            self._timed_out = True
        self._interrupt()

    def _interrupt_if_running(self, generation: int) -> None:
        # Only the run that was cancelled: the next preview may have started meanwhile.
        with self._state:
            same_run = self._running and generation == self._generation
        if same_run:
            self._interrupt()


def _split_by_bytes(rows: list[list[Any]]) -> Iterator[Rows]:
    """Yield ``rows`` in batches of at most about BATCH_BYTES of JSON (at least one row)."""
    # Most batches are far below the bound: one encoding in C says so for all the rows.
    encoded = json.dumps(rows, ensure_ascii=False)
    if len(encoded) <= BATCH_BYTES:
        if rows:
            yield Rows(rows, len(encoded), encoded)
        return
    batch: list[list[Any]] = []
    size = 0
    for row in rows:
        row_size = estimate_json_bytes(row)
        if batch and size + row_size > BATCH_BYTES:
            yield Rows(batch, size)
            batch, size = [], 0
        batch.append(row)
        size += row_size
    if batch:
        yield Rows(batch, size)


def merge_rows(events: list[Event]) -> list[Event]:
    """``events`` with runs of Rows joined into batches of at most about BATCH_BYTES.

    The warehouse reads about 100 rows at a time; rows that are already read by the time
    the previous batch went out travel together, in fewer (and so cheaper) messages.
    """
    merged: list[Event] = []
    for event in events:
        last = merged[-1] if merged else None
        if (
            isinstance(event, Rows)
            and isinstance(last, Rows)
            and last.json_bytes + event.json_bytes <= BATCH_BYTES
        ):
            merged[-1] = Rows(
                last.rows + event.rows,
                last.json_bytes + event.json_bytes,
                _join_arrays(last.encoded, event.encoded),
            )
        else:
            merged.append(event)
    return merged


def _join_arrays(first: str | None, second: str | None) -> str | None:
    """Two encoded non-empty JSON arrays as one, without decoding them."""
    if first is None or second is None:
        return None
    return f"{first[:-1]},{second[1:]}"
