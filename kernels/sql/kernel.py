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

Results exist only in this process's memory while they are sent: this is a bare ipykernel
``Kernel`` (no IPython shell, so no history database), nothing is written to disk, and
nothing about rows is logged. Nor does it import sqlglot for a statement the pod guarded
(all of the pod's): the parser is a good part of a kernel's memory, and the pod holds it
already.

Interrupt (``interrupt_request`` on the control channel, or SIGINT) cancels the statement
running on the warehouse; the kernel stays ready for the next preview. The warehouse calls
themselves run on the kernel's one worker thread (:mod:`.worker`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ipykernel.kernelbase import Kernel
from traitlets import Float

from kernels.warehouses import Columns, Done, Event, Rows, Warehouse, WarehouseError
from kernels.warehouses import open_warehouse as _open_warehouse

from .guarded import DEFAULT_ROW_CAP, GuardedQuery, Position, QueryRefused, validate_cap
from .kernelspec import MIMETYPE, WAREHOUSE_ENV
from .stream import stream_events
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


class SqlKernel(Kernel):
    implementation = "ide-sql"
    implementation_version = "0.1.0"
    banner = "SQL preview kernel: guarded, capped, streamed, memory only"
    language_info = {"name": "sql", "mimetype": "text/x-sql", "file_extension": ".sql"}
    # ipykernel sleeps this long after each execute, so that output still being flushed
    # reaches clients before the reply. This kernel prints nothing: its events are sent
    # before the reply on the same IOPub socket, in order, so the pause only adds latency.
    _execute_sleep = Float(0.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._warehouse: Warehouse | None = None
        self._worker = WarehouseWorker()
        self._running_query: str | None = None

    def start(self) -> None:
        # SIGINT (the kernel manager's fallback interrupt) cancels the warehouse statement
        # instead of raising KeyboardInterrupt somewhere inside the event loop.
        signal.signal(signal.SIGINT, self._on_sigint)
        super().start()

    def pre_handler_hook(self) -> None:
        """Keep our SIGINT handler while a request runs (ipykernel swaps in its own)."""

    def post_handler_hook(self) -> None:
        """Nothing to restore: see :meth:`pre_handler_hook`."""

    async def interrupt_request(self, stream: Any, ident: Any, parent: Any) -> None:
        # Runs on the control thread while the shell thread waits on the warehouse. The
        # pod names the query it means: an interrupt that arrives after that query ended
        # must not cancel the next one. A plain interrupt cancels whatever runs.
        target = (parent.get("content") or {}).get("query_id")
        if target is None or target == self._running_query:
            self._cancel_running()
        if self.session:
            self.session.send(stream, "interrupt_reply", {"status": "ok"}, parent, ident=ident)

    async def do_execute(  # type: ignore[override]
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: Mapping[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: Any = None,
        cell_id: Any = None,
    ) -> dict[str, Any]:
        try:
            request = PreviewRequest.parse(code)
        except ValueError as exc:
            return _error_reply(f"bad preview request: {exc}")
        self._running_query = request.query_id
        try:
            error = await self._preview(request)
        finally:
            self._running_query = None
        if error is None:
            return {"status": "ok", "execution_count": self.execution_count}
        return {**_error_reply(error), "execution_count": self.execution_count}

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        if self._warehouse is not None:
            self._warehouse.close()
        self._worker.stop()
        return {"status": "ok", "restart": restart}

    async def _preview(self, request: PreviewRequest) -> str | None:
        """Run one preview, emitting its events; the error message if it failed."""
        started = time.monotonic()
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
            async for events in stream_events(
                self._worker, warehouse.run(guarded.sql, guarded.cap)
            ):
                buffers: list[bytes] = []
                payloads = [_event_payload(e, started, buffers) for e in events]
                self._emit(request.query_id, payloads, buffers)
        except QueryRefused as exc:
            where = {"position": exc.position.to_json()} if exc.position else {}
            return self._emit_error(request.query_id, exc.message, where)
        except WarehouseError as exc:
            where = _error_location(exc, guarded, guarded_here)
            return self._emit_error(request.query_id, exc.message, where, exc.cancelled)
        except Exception as exc:
            # The exception's text may quote data; only its type and frames are logged.
            log.error("preview failed: %s\n%s", type(exc).__name__, _frames(exc))
            return self._emit_error(request.query_id, f"the preview failed ({type(exc).__name__})")
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
        self, query_id: str, events: list[dict[str, Any]], buffers: list[bytes] | None = None
    ) -> None:
        content = {"data": {MIMETYPE: {"query_id": query_id, "events": events}}, "metadata": {}}
        self.send_response(self.iopub_socket, "display_data", content, buffers=buffers)

    def _emit_error(
        self,
        query_id: str,
        message: str,
        where: Mapping[str, Any] | None = None,
        cancelled: bool = False,
    ) -> str:
        payload: dict[str, Any] = {"event": "error", "message": message, "cancelled": cancelled}
        self._emit(query_id, [{**payload, **(where or {})}])
        return message

    def _cancel_running(self) -> None:
        if self._warehouse is not None:
            self._warehouse.cancel()

    def _on_sigint(self, signum: int, frame: Any) -> None:
        # A signal handler must return quickly; a PostgreSQL cancel is a network round trip.
        threading.Thread(target=self._cancel_running, daemon=True).start()


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
