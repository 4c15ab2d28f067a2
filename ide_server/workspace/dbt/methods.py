"""``dbt/*``: compile, run a command with streamed notifications, cancel, history, lineage,
catalog. The pod's :class:`~.service.DbtService` (``workspace.dbt``) does the work; see
docs/protocol.md for params, results, notifications and errors."""

from __future__ import annotations

import time
from typing import Any

from ..errors import (
    ALREADY_EXISTS,
    COMPILE_ERROR,
    DBT_BUSY,
    INVALID_PARAMS,
    INVALID_PATH,
    NO_WAREHOUSE,
    NOT_DBT_PROJECT,
    NOT_FOUND,
    RpcError,
)
from ..rpc import Context, MethodRegistry, NoParams
from .commands import BadArgs, check_command
from .errors import raise_for_compile, service_errors
from .previews import compile_sql, relative_path
from .types import (
    CancelParams,
    CancelResult,
    CatalogResult,
    CompileParams,
    CompileResult,
    DbtDone,
    DbtLog,
    DbtNode,
    HistoryParams,
    HistoryResult,
    LineageParams,
    LineageResult,
    RunParams,
    RunResult,
)

methods = MethodRegistry()
methods.notification("dbt/log", DbtLog)
methods.notification("dbt/node", DbtNode)
methods.notification("dbt/done", DbtDone)

_NODE_ERRORS = (NOT_DBT_PROJECT, COMPILE_ERROR, INVALID_PATH, NOT_FOUND, NO_WAREHOUSE)


# Compiling may query the warehouse (introspective macros) with the owner's credentials.
@methods.method(
    "dbt/compile", CompileParams, result=CompileResult, errors=_NODE_ERRORS, guest_mode="full"
)
async def compile_node(ctx: Context, params: CompileParams) -> dict[str, Any]:
    path = relative_path(ctx.workspace, params.path)
    started = time.monotonic()
    compiled = await compile_sql(ctx.workspace.dbt, path, params.content)
    elapsed = round((time.monotonic() - started) * 1000, 1)
    return {"path": path, "compiled_sql": compiled, "elapsed_ms": elapsed}


@methods.method(
    "dbt/run",
    RunParams,
    result=RunResult,
    writes=True,
    errors=(NOT_DBT_PROJECT, DBT_BUSY, ALREADY_EXISTS, NO_WAREHOUSE),
)
async def run(ctx: Context, params: RunParams) -> dict[str, Any]:
    service = ctx.workspace.dbt
    with service_errors():
        service.setup()
        try:
            command = check_command(params.command, params.args, service.project_dir)
        except BadArgs as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        await service.run(command, params.invocation_id, ctx.client.user)
    return {"invocation_id": params.invocation_id}


@methods.method("dbt/cancel", CancelParams, result=CancelResult, writes=True)
async def cancel(ctx: Context, params: CancelParams) -> dict[str, Any]:
    cancelled = await ctx.workspace.dbt.cancel(params.invocation_id)
    return {"invocation_id": params.invocation_id, "cancelled": cancelled}


@methods.method(
    "dbt/history", HistoryParams, result=HistoryResult, errors=(NOT_DBT_PROJECT, NO_WAREHOUSE)
)
async def history(ctx: Context, params: HistoryParams) -> dict[str, Any]:
    service = ctx.workspace.dbt
    with service_errors():
        service.setup()
    mine = [r for r in service.history(200) if r["user"] == ctx.client.user]
    return {"invocations": mine[: params.limit]}


@methods.method("dbt/lineage", LineageParams, result=LineageResult, errors=_NODE_ERRORS)
async def lineage(ctx: Context, params: LineageParams) -> dict[str, Any]:
    path = relative_path(ctx.workspace, params.path)
    with service_errors():
        answer = await ctx.workspace.dbt.ask(
            "lineage", path=path, unique_id=params.unique_id,
            upstream=params.upstream, downstream=params.downstream,
        )  # fmt: skip
    raise_for_compile(answer)
    return dict(answer["result"])


@methods.method(
    "dbt/catalog",
    NoParams,
    result=CatalogResult,
    errors=(NOT_DBT_PROJECT, COMPILE_ERROR, NO_WAREHOUSE),
    guest_mode="full",
)
async def catalog(ctx: Context, params: NoParams) -> dict[str, Any]:
    with service_errors():
        answer = await ctx.workspace.dbt.catalog()
    raise_for_compile(answer)
    return dict(answer["result"])
