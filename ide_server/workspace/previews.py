"""The previews of one pod: the SQL kernel, the waiting line, and cancel.

The pod checks the SQL with the same guard the kernel uses, so a refused statement is a
JSON-RPC error and never starts a kernel, let alone reaches the warehouse. Previews run
one at a time per pod (the kernel runs one statement at a time); later ones wait their
turn and can be cancelled while they wait.

The kernel is started on the first preview through jupyter-server's kernel manager and
started again if it died. Rows pass through this process in memory only: they are
forwarded as they arrive and never logged. The pod's :class:`.workspace.Workspace` owns
the one :class:`QueryService`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import queue
import secrets
from dataclasses import dataclass, field
from typing import Any

from kernels.sql.kernelspec import KERNEL_NAME, MIMETYPE, WAREHOUSE_ENV, write_kernelspec
from kernels.warehouses import WarehouseError, dialect_of

from .errors import (
    INVALID_PARAMS,
    NO_WAREHOUSE,
    NO_WAREHOUSE_MESSAGE,
    SQL_REFUSED,
    UNAVAILABLE,
    RpcError,
)
from .query import EVENTS, PreviewParams
from .rpc import Client
from .runs import ClientRuns

log = logging.getLogger(__name__)

KERNEL_START_TIMEOUT = 60.0


class _KernelDied(Exception):
    """The kernel exited (or stayed silent) before answering its first request."""


_WATCH_INTERVAL = 1.0  # seconds of kernel silence between liveness checks
# The kernel runs user SQL; it needs none of the pod's secrets.
_PRIVATE_ENV_PREFIXES = ("IDE_POD_", "JUPYTER_TOKEN", "IDE_SQL_")


@dataclass(eq=False)
class _Query:
    query_id: str  # the client's
    client: Client  # kept alive by this reference while the query is in ClientRuns
    # The kernel's id for this run: never the client's, so that a late interrupt for one
    # client's "q1" cannot stop another client's "q1".
    kernel_query_id: str
    request: dict[str, Any]
    cancel_requested: bool = False
    reported: bool = False  # query/done or query/error was sent
    compiled_sql: str | None = None  # what dbt compiled, echoed in query/done
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class KernelGone(Exception):
    """The kernel died or restarted while a preview ran."""


class QueryService:
    """The previews of one pod: the SQL kernel, the waiting line, and cancel."""

    def __init__(self, workspace: Any) -> None:
        self._workspace = workspace
        self._queries: ClientRuns[_Query] = ClientRuns("query_id")
        self._running: _Query | None = None
        self._turn = asyncio.Lock()  # one statement at a time in the kernel
        self._kernel_id: str | None = None
        self._kernel_pid: int | None = None
        self._client: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    def busy(self) -> bool:
        """Whether a preview is running or waiting (activity for the session manager)."""
        return bool(self._queries)

    def submit(
        self, client: Client, params: PreviewParams, *, compiled_sql: str | None = None
    ) -> None:
        """Check the SQL and queue the preview; its rows follow as notifications."""
        if self._workspace.stopping:  # a kernel started now would outlive the server
            raise RpcError(UNAVAILABLE, "the session is stopping; preview again once it restarts")
        settings = self._workspace.config.warehouse
        if not settings:  # never another project's warehouse, nor a default one
            raise RpcError(NO_WAREHOUSE, NO_WAREHOUSE_MESSAGE)
        # sqlglot takes a good part of a second to import: the first preview pays it (while
        # its kernel starts anyway), not every pod start.
        from kernels.sql.guard import QueryRefused, guard, validate_cap

        try:
            dialect = dialect_of(settings)
            guarded = guard(
                params.sql, dialect, cap=validate_cap(params.limit), source_dialect=params.dialect
            )
        except WarehouseError as exc:
            raise RpcError(UNAVAILABLE, exc.message) from None
        except QueryRefused as exc:
            data = {"position": exc.position.to_json()} if exc.position else None
            raise RpcError(SQL_REFUSED, exc.message, data) from None
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        kernel_query_id = secrets.token_hex(8)
        request = {
            "query_id": kernel_query_id,
            "sql": params.sql,
            "limit": validate_cap(params.limit),
        }
        if params.dialect:
            request["dialect"] = params.dialect
        # The kernel runs the checked statement as is instead of parsing it again.
        request["guarded"] = dataclasses.asdict(guarded)
        query = _Query(params.query_id, client, kernel_query_id, request, compiled_sql=compiled_sql)
        self._queries.claim(client, params.query_id, query)
        task = asyncio.ensure_future(self._run(query))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel(self, client: Client, query_id: str) -> bool:
        """Cancel ``client``'s waiting or running preview; False if it already finished."""
        query = self._queries.get(client, query_id)
        if query is None or query.cancel_requested or query.reported:
            return False
        query.cancel_requested = True
        if query is self._running:
            await self._interrupt(query)
            # An interrupt that lands while the kernel is between steps cancels nothing;
            # a second one a moment later catches the statement once it started.
            try:
                await asyncio.wait_for(query.finished.wait(), timeout=0.5)
            except TimeoutError:
                if query is self._running:
                    await self._interrupt(query)
        return True

    async def shutdown(self) -> None:
        """Stop the kernel; safe to call twice. The workspace is ``stopping`` by now, so no
        new preview starts another."""
        for task in list(self._tasks):
            task.cancel()
        await self._stop_kernel()

    async def _run(self, query: _Query) -> None:
        try:
            async with self._turn:
                if query.cancel_requested:
                    await _notify_error(query, "the query was cancelled", cancelled=True)
                    return
                self._running = query
                await self._execute(query)
        except KernelGone as exc:
            await self._forget_kernel()
            await _notify_error(query, str(exc))
        except WarehouseError as exc:  # the kernel could not be started
            await _notify_error(query, exc.message)
        except Exception:
            log.exception("preview %s failed in the pod", query.query_id)
            await _notify_error(query, "the preview failed on the server; see the pod log")
        finally:
            self._running = None
            self._queries.release(query.client, query.query_id)
            query.finished.set()

    async def _execute(self, query: _Query) -> None:
        client = await self._ensure_kernel()
        if query.cancel_requested:  # while the kernel was starting
            await _notify_error(query, "the query was cancelled", cancelled=True)
            return
        # Silent: the kernel does not echo the request back as an execute_input message,
        # one message fewer for both processes; its display_data and reply come all the same.
        msg_id = client.execute(
            json.dumps(query.request), silent=True, store_history=False, stop_on_error=False
        )
        reported = await self._relay(query, client, msg_id)
        reply = await self._reply(client, msg_id)
        if not reported and reply.get("status") != "ok":
            await _notify_error(query, str(reply.get("evalue") or "the preview failed"))

    async def _relay(self, query: _Query, client: Any, msg_id: str) -> bool:
        """Forward the kernel's events for ``msg_id``; True once done or error was sent."""
        reported = False
        while True:
            try:
                msg = await client.get_iopub_msg(timeout=_WATCH_INTERVAL)
            except queue.Empty:
                await self._watch(query)
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "starting":
                raise KernelGone("the SQL kernel restarted during the preview; run it again")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue  # left over from an earlier, cancelled preview
            if msg["msg_type"] == "display_data":
                data = msg["content"].get("data", {}).get(MIMETYPE)
                events = data.get("events") if isinstance(data, dict) else None
                buffers = msg.get("buffers") or []
                for event in events if isinstance(events, list) else ():
                    if isinstance(event, dict):
                        reported = await _forward(query, event, buffers) or reported
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return reported

    async def _watch(self, query: _Query) -> None:
        """Between kernel messages: the kernel must be alive, the caller still connected."""
        if not await self._kernel_alive():
            raise KernelGone("the SQL kernel stopped during the preview; the next one restarts it")
        if query.cancel_requested:
            await self._interrupt(query)  # the earlier interrupt came before the statement began
            return
        if query.client not in self._workspace.clients and not query.cancel_requested:
            query.cancel_requested = True  # nobody is left to see the rows
            await self._interrupt(query)

    async def _reply(self, client: Any, msg_id: str) -> dict[str, Any]:
        while True:
            try:
                msg = await client.get_shell_msg(timeout=30)
            except queue.Empty:
                raise KernelGone(
                    "the SQL kernel did not answer; the next preview restarts it"
                ) from None
            if msg["parent_header"].get("msg_id") == msg_id:
                return dict(msg["content"])

    async def _ensure_kernel(self) -> Any:
        if self._client is not None and await self._kernel_alive():
            return self._client
        await self._forget_kernel()
        try:
            return await self._start_kernel()
        except _KernelDied:
            # A kernel that dies before its first reply (right after a crashed one, while
            # jupyter-server's restarter is still busy with the old process) gets one more
            # start before the user is told.
            log.warning("the SQL kernel died while starting; starting it once more")
            try:
                return await self._start_kernel()
            except _KernelDied:
                raise WarehouseError("the SQL kernel did not start; see the pod log") from None

    async def _start_kernel(self) -> Any:
        manager = self._workspace.kernel_manager
        _register_kernelspec(manager, self._workspace.config.runtime_dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_ENV_PREFIXES)}
        env[WAREHOUSE_ENV] = json.dumps(dict(self._workspace.config.warehouse))
        try:
            kernel_id = await manager.start_kernel(kernel_name=KERNEL_NAME, env=env)
        except Exception as exc:
            log.exception("could not start the SQL kernel")
            raise WarehouseError("could not start the SQL kernel; see the pod log") from exc
        self._kernel_id = kernel_id
        # jupyter-server subscribes to every kernel's IOPub to note its activity, which costs
        # this process a parse of each message the kernel sends. This pod's activity is its
        # clients' requests (a preview is one) and its busy previews (see Workspace.is_busy),
        # not the kernel's traffic, so nothing reads what that subscription records.
        manager.stop_watching_activity(kernel_id)
        kernel = manager.get_kernel(kernel_id)
        self._kernel_pid = getattr(kernel.provisioner, "pid", None)
        client = kernel.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=KERNEL_START_TIMEOUT)
        except RuntimeError as exc:
            log.warning("the SQL kernel died before replying: %s", exc)
            client.stop_channels()
            await self._stop_kernel()
            raise _KernelDied from exc
        self._client = client
        return client

    async def _kernel_alive(self) -> bool:
        manager = self._workspace.kernel_manager
        if self._kernel_id is None or self._kernel_id not in manager:
            return False
        kernel = manager.get_kernel(self._kernel_id)
        # jupyter-server may have restarted a dead kernel under the same id: a new process
        # that knows nothing of the running preview.
        if getattr(kernel.provisioner, "pid", None) != self._kernel_pid:
            return False
        return bool(await kernel.is_alive())

    async def _interrupt(self, query: _Query) -> None:
        """Send the kernel an ``interrupt_request`` naming ``query``.

        The kernel manager's own ``interrupt_kernel`` sends one without content; naming the
        query keeps a late interrupt from cancelling the preview that started after it.
        """
        client = self._client
        if client is None:
            return  # the kernel is still starting; _execute checks cancel_requested
        message = client.session.msg("interrupt_request", {"query_id": query.kernel_query_id})
        client.control_channel.send(message)

    async def _forget_kernel(self) -> None:
        if self._client is not None:
            self._client.stop_channels()
            self._client = None
        await self._stop_kernel()

    async def _stop_kernel(self) -> None:
        kernel_id, self._kernel_id = self._kernel_id, None
        manager = self._workspace.kernel_manager
        if kernel_id is not None and kernel_id in manager:
            try:
                await manager.shutdown_kernel(kernel_id, now=True)
            except Exception:
                log.warning("could not shut the SQL kernel down", exc_info=True)


async def _forward(query: _Query, event: dict[str, Any], buffers: list[Any]) -> bool:
    """Send one kernel event as a ``query/*`` notification; True if it ended the query."""
    kind = event.get("event")
    index = event.get("buffer")
    if kind == "rows" and isinstance(index, int) and 0 <= index < len(buffers):
        # The kernel's rows, a JSON array, go out as they came (see kernels.sql.kernel).
        rows = bytes(buffers[index]).decode()
        params = f'{{"query_id":{json.dumps(query.query_id)},"rows":{rows}}}'
        await query.client.notify_encoded("query/rows", params)
        return query.reported
    body = {k: v for k, v in event.items() if k != "event"}
    body["query_id"] = query.query_id
    if kind in ("done", "error"):
        query.reported = True
    if kind == "done" and query.compiled_sql is not None:
        body["compiled_sql"] = query.compiled_sql
    if kind == "error" and "offset" in body:
        _locate(body, query.request.get("guarded"))
    if kind in EVENTS:
        await query.client.notify(f"query/{kind}", body)
    return query.reported


def _locate(body: dict[str, Any], guarded: Any) -> None:
    """Turn the kernel's ``offset`` (where the warehouse points in the statement this pod
    guarded) into the ``position`` in the SQL the user wrote. The kernel leaves this to the
    pod so that it never loads sqlglot, which the pod's guard has loaded anyway."""
    offset = body.pop("offset")
    if not isinstance(offset, int) or not isinstance(guarded, dict):
        return
    from kernels.sql.positions import map_to_source

    position = map_to_source(
        guarded["sql"], guarded["dialect"], guarded["source_sql"], guarded["source_dialect"], offset
    )
    if position is not None:
        body["position"] = position.to_json()


async def _notify_error(query: _Query, message: str, *, cancelled: bool = False) -> None:
    params = {"query_id": query.query_id, "message": message, "cancelled": cancelled}
    query.reported = True
    await query.client.notify("query/error", params)


def _register_kernelspec(manager: Any, runtime_dir: Any) -> None:
    """Make the kernel manager find ``ide-sql`` without a manual install step."""
    specs = manager.kernel_spec_manager
    if KERNEL_NAME in specs.find_kernel_specs():
        return
    kernels_dir = str(write_kernelspec(runtime_dir / "kernels"))
    if kernels_dir not in specs.kernel_dirs:
        specs.kernel_dirs = [*specs.kernel_dirs, kernels_dir]
