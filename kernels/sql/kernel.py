"""The SQL preview kernel: a Jupyter kernel that guards, runs and streams one query at a time.

Request: an ``execute_request`` whose code is JSON
``{"query_id": str, "sql": str, "limit"?: int, "dialect"?: str, "guarded"?: {...}}``;
``guarded`` is the statement as the pod's guard already checked and capped it.

Answer: ``display_data`` messages on IOPub whose data holds ``{"query_id", "events"}``
under :data:`MIMETYPE`, the events in order — ``columns``, then ``rows`` batches, then
``done`` or ``error`` — batched into few messages (see :mod:`.stream`), and then the
``execute_reply``. A ``rows`` event names the message buffer that holds its rows as a
UTF-8 JSON array (``{"event": "rows", "buffer": 0}``): the rows were encoded once to
measure the batch, and the pod splices them into its notification as they are, so neither
process encodes or parses them again. An ``error`` the warehouse located carries
``position`` (line and column in the SQL the user wrote) or, for a statement the pod
guarded, ``offset``: where the warehouse points in that guarded statement, which the pod
maps back itself.

Results exist only in this process's memory while they are sent: the kernel speaks the
Jupyter protocol itself (:mod:`.server`), with no IPython shell and so no history
database; nothing is written to disk, and nothing about rows is logged. Nor does it
import sqlglot for a statement the pod guarded (all of the pod's): the parser is a good
part of a kernel's memory, and the pod holds it already.

Interrupt (``interrupt_request`` on the control channel, or SIGINT) cancels the statement
running on the warehouse; the kernel stays ready for the next preview. The warehouse calls
themselves run on the kernel's one worker thread (:mod:`.worker`), while the loop on the
main thread sends their events as they come (:mod:`.stream`) and answers the control
channel. Executes that arrive while one runs wait their turn.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kernels.warehouses import Columns, Done, Event, Rows, Warehouse, WarehouseError
from kernels.warehouses import open_warehouse as _open_warehouse

from .guarded import DEFAULT_ROW_CAP, GuardedQuery, Position, QueryRefused, validate_cap
from .kernelspec import MIMETYPE, WAREHOUSE_ENV
from .server import KernelServer
from .stream import Batcher
from .wire import ConnectionInfo, Message
from .worker import WarehouseWorker

__all__ = ["MIMETYPE", "WAREHOUSE_ENV", "SqlKernel"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreviewRequest:
    query_id: str
    sql: str
    limit: int = DEFAULT_ROW_CAP
    dialect: str | None = None
    # The statement as the pod's guard already checked and capped it (see _preview).
    guarded: GuardedQuery | None = None

    @classmethod
    def parse(cls, code: str) -> PreviewRequest:
        try:
            raw = json.loads(code)
        except ValueError:
            raise ValueError("the request is not JSON") from None
        if not isinstance(raw, dict):
            raise ValueError("the request must be a JSON object")
        query_id, sql, dialect = raw.get("query_id"), raw.get("sql"), raw.get("dialect")
        if not isinstance(query_id, str) or not query_id:
            raise ValueError("query_id must be a non-empty string")
        if not isinstance(sql, str):
            raise ValueError("sql must be a string")
        if dialect is not None and not isinstance(dialect, str):
            raise ValueError("dialect must be a string")
        cap = validate_cap(raw.get("limit"))
        return cls(query_id, sql, cap, dialect or None, _guarded(raw.get("guarded"), sql, cap))


class SqlKernel(KernelServer):
    implementation = "ide-sql"
    implementation_version = "0.2.0"
    banner = "SQL preview kernel: guarded, capped, streamed, memory only"
    language_info = {"name": "sql", "mimetype": "text/x-sql", "file_extension": ".sql"}

    def __init__(self, connection: ConnectionInfo) -> None:
        super().__init__(connection)
        self._warehouse: Warehouse | None = None
        self._worker = WarehouseWorker()
        self._waiting: deque[Message] = deque()  # executes that came while one ran
        self._run: _Run | None = None
        self._execution_count = 0
        # SIGINT (the kernel manager's fallback interrupt) cancels the warehouse statement
        # instead of raising KeyboardInterrupt somewhere inside the loop.
        signal.signal(signal.SIGINT, self._on_sigint)

    def execute(self, request: Message) -> None:
        self._waiting.append(request)
        self._start_next()

    def interrupt(self, request: Message) -> None:
        # The pod names the query it means: an interrupt that arrives after that query
        # ended must not cancel the next one. A plain interrupt cancels whatever runs.
        target = request.content.get("query_id")
        running = self._run.preview.query_id if self._run is not None else None
        if target is None or target == running:
            self._cancel_soon()

    def shutdown(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
        self._worker.stop()

    def timeout(self) -> float | None:
        return self._run.batcher.timeout() if self._run is not None else None

    def pump(self) -> None:
        """Send what the running preview has ready; answer it once it ended."""
        run = self._run
        if run is None:
            return
        messages, end = run.batcher.take()
        for events in messages:
            buffers: list[bytes] = []
            payloads = [_event_payload(e, run.started, buffers) for e in events]
            self._emit(run, payloads, buffers)
        if end is None:
            return
        self._run = None
        reply: dict[str, Any] = {"status": "ok", "user_expressions": {}, "payload": []}
        if end.error is not None:
            self._emit(run, [end.error])
            reply = _error_reply(end.error["message"])
        self.finish(run.request, {**reply, "execution_count": self._execution_count})
        self._start_next()

    def _start_next(self) -> None:
        while self._run is None and self._waiting:
            request = self._waiting.popleft()
            if request.content.get("silent") is not True:
                self._execution_count += 1
            code = request.content.get("code")
            try:
                preview = PreviewRequest.parse(code if isinstance(code, str) else "")
            except ValueError as exc:
                reply = _error_reply(f"bad preview request: {exc}")
                self.finish(request, {**reply, "execution_count": self._execution_count})
                continue
            run = _Run(request, preview, Batcher(self.wake), time.monotonic())
            self._run = run
            self._worker.submit(functools.partial(self._work, run))

    def _work(self, run: _Run) -> None:
        """On the worker thread: the run, then its outcome for the loop."""
        run.batcher.finish(_Outcome(self._preview(run)))

    def _preview(self, run: _Run) -> dict[str, Any] | None:
        """On the worker thread: run one preview, adding its events to the run's batcher;
        the error event if it failed."""
        request = run.preview
        guarded: GuardedQuery | None = None
        guarded_here = False
        try:
            warehouse = self._get_warehouse()
            guarded = request.guarded
            if guarded is None or guarded.dialect != warehouse.dialect:
                from .guard import guard  # sqlglot, for a statement the pod did not guard

                guarded_here = True
                guarded = guard(
                    request.sql,
                    warehouse.dialect,
                    cap=request.limit,
                    source_dialect=request.dialect,
                )
            for event in warehouse.run(guarded.sql, guarded.cap):
                # Done goes at once: the warehouse may still be winding down (a ROLLBACK).
                run.batcher.add(event, urgent=isinstance(event, Done))
        except QueryRefused as exc:
            where = {"position": exc.position.to_json()} if exc.position else {}
            return _error_event(exc.message, where)
        except WarehouseError as exc:
            where = _error_location(exc, guarded, guarded_here)
            return _error_event(exc.message, where, exc.cancelled)
        except Exception as exc:
            # The exception's text may quote data; only its type and frames are logged.
            log.error("preview failed: %s\n%s", type(exc).__name__, _frames(exc))
            return _error_event(f"the preview failed ({type(exc).__name__})")
        return None

    def _get_warehouse(self) -> Warehouse:
        if self._warehouse is None:
            raw = os.environ.get(WAREHOUSE_ENV, "")
            try:
                settings = json.loads(raw) if raw else {}
            except ValueError:
                raise WarehouseError(f"{WAREHOUSE_ENV} is not valid JSON") from None
            self._warehouse = _open_warehouse(settings)
        return self._warehouse

    def _emit(
        self, run: _Run, events: list[dict[str, Any]], buffers: list[bytes] | None = None
    ) -> None:
        data = {MIMETYPE: {"query_id": run.preview.query_id, "events": events}}
        self.publish("display_data", {"data": data, "metadata": {}}, run.request, buffers=buffers)

    def _cancel_soon(self) -> None:
        """Cancel the running statement on a thread of its own: a PostgreSQL cancel is a
        network round trip, and neither the loop nor a signal handler may wait for it."""
        threading.Thread(target=self._cancel_running, daemon=True).start()

    def _cancel_running(self) -> None:
        if self._warehouse is not None:
            self._warehouse.cancel()

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._cancel_soon()


@dataclass(frozen=True)
class _Outcome:
    error: dict[str, Any] | None  # the error event, or None when the preview finished


@dataclass(frozen=True)
class _Run:
    request: Message
    preview: PreviewRequest
    batcher: Batcher
    started: float


def _error_event(
    message: str, where: Mapping[str, Any] | None = None, cancelled: bool = False
) -> dict[str, Any]:
    return {"event": "error", "message": message, "cancelled": cancelled, **(where or {})}


def _guarded(raw: Any, sql: str, cap: int) -> GuardedQuery | None:
    """The pod's guarded statement for ``sql``, when the request carries a well-formed one.

    Parsing a statement with sqlglot costs milliseconds, and the pod has just done it to
    answer a refusal at once: the kernel takes its result rather than parse again. Only the
    pod reaches the kernel's channels (the gateway forwards no kernel route), and the
    warehouses refuse writes on their own (DuckDB read-only and locked, PostgreSQL
    ``BEGIN READ ONLY``). A request without it (or for another dialect) is guarded here.
    """
    if not isinstance(raw, dict):
        return None
    fields = ("sql", "dialect", "source_sql", "source_dialect")
    if not all(isinstance(raw.get(f), str) for f in fields) or raw.get("cap") != cap:
        return None
    if raw["source_sql"] != sql:
        return None
    return GuardedQuery(
        sql=raw["sql"],
        cap=cap,
        dialect=raw["dialect"],
        source_sql=sql,
        source_dialect=raw["source_dialect"],
    )


def _event_payload(event: Event, started: float, buffers: list[bytes]) -> dict[str, Any]:
    """The JSON form of ``event``; a ``rows`` event's rows go into ``buffers`` (see the
    module's doc)."""
    if isinstance(event, Columns):
        columns = [{"name": c.name, "type": c.type} for c in event.columns]
        return {"event": "columns", "columns": columns}
    if isinstance(event, Rows):
        buffers.append(event.to_json().encode())
        return {"event": "rows", "buffer": len(buffers) - 1}
    assert isinstance(event, Done)
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return {
        "event": "done",
        "row_count": event.row_count,
        "elapsed_ms": elapsed_ms,
        "truncated": event.truncated,
    }


def _error_location(
    exc: WarehouseError, guarded: GuardedQuery | None, guarded_here: bool
) -> dict[str, Any]:
    """Where the warehouse points, as the error event carries it (see the module's doc)."""
    if exc.offset is None or guarded is None:
        return {}
    if not guarded_here:
        return {"offset": exc.offset}
    from .positions import map_to_source  # sqlglot: loaded already, this kernel guarded

    position: Position | None = map_to_source(
        guarded.sql, guarded.dialect, guarded.source_sql, guarded.source_dialect, exc.offset
    )
    return {"position": position.to_json()} if position else {}


def _error_reply(message: str) -> dict[str, Any]:
    return {"status": "error", "ename": "PreviewError", "evalue": message, "traceback": []}


def _frames(exc: BaseException) -> str:
    return "".join(traceback.format_tb(exc.__traceback__))
