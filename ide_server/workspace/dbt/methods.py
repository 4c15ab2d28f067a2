"""``dbt/*``: compile, run a command with streamed notifications, cancel, history, lineage,
catalog. See docs/protocol.md for params, results, notifications and errors."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ..rpc import INVALID_PARAMS, Context, MethodRegistry, RpcError
from .commands import BadArgs, check_command
from .errors import raise_for_compile, service_errors
from .previews import compile_sql, relative_path
from .service import DbtService

methods = MethodRegistry()

_INVOCATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def service_for(workspace: Any) -> DbtService:
    """The dbt service of ``workspace``, hung off it on first use (it is the pod's state)."""
    service = getattr(workspace, "dbt_service", None)
    if service is None:
        service = DbtService(workspace)
        workspace.dbt_service = service
    return service


def attach(workspace: Any) -> None:
    """Called by the extension at start: running commands count as activity."""
    workspace.busy_checks.append(service_for(workspace).busy)


@dataclass(frozen=True)
class CompileParams:
    path: str
    content: str | None = None


@dataclass(frozen=True)
class RunParams:
    command: str
    args: list[str] = field(default_factory=list)
    invocation_id: str | None = None

    def __post_init__(self) -> None:
        if self.invocation_id is not None and not _INVOCATION_ID.match(self.invocation_id):
            raise ValueError("invocation_id must be 8 to 64 letters, digits, '-' or '_'")


@dataclass(frozen=True)
class CancelParams:
    invocation_id: str


@dataclass(frozen=True)
class HistoryParams:
    limit: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 200:
            raise ValueError("limit must be from 1 to 200")


@dataclass(frozen=True)
class LineageParams:
    path: str | None = None
    unique_id: str | None = None
    upstream: int = 2
    downstream: int = 2

    def __post_init__(self) -> None:
        if (self.path is None) == (self.unique_id is None):
            raise ValueError("give either path or unique_id")
        if not (0 <= self.upstream <= 50 and 0 <= self.downstream <= 50):
            raise ValueError("upstream and downstream must be from 0 to 50")


@dataclass(frozen=True)
class NoParams:
    pass


@methods.method("dbt/compile", CompileParams)
async def compile_node(ctx: Context, params: CompileParams) -> dict[str, Any]:
    service = service_for(ctx.workspace)
    path = relative_path(ctx.workspace, params.path)
    started = time.monotonic()
    compiled = await compile_sql(service, path, params.content)
    elapsed = round((time.monotonic() - started) * 1000, 1)
    return {"path": path, "compiled_sql": compiled, "elapsed_ms": elapsed}


@methods.method("dbt/run", RunParams, writes=True)
async def run(ctx: Context, params: RunParams) -> dict[str, Any]:
    service = service_for(ctx.workspace)
    with service_errors():
        service.setup()
        try:
            command = check_command(params.command, params.args, service.project_dir)
        except BadArgs as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        if params.invocation_id is not None and service.known(params.invocation_id):
            raise RpcError(INVALID_PARAMS, f"invocation id {params.invocation_id} is in use")
        invocation = await service.run(ctx.client, command, params.invocation_id, ctx.client.user)
    return {"invocation_id": invocation.invocation_id}


@methods.method("dbt/cancel", CancelParams, writes=True)
async def cancel(ctx: Context, params: CancelParams) -> dict[str, Any]:
    cancelled = await service_for(ctx.workspace).cancel(params.invocation_id)
    return {"invocation_id": params.invocation_id, "cancelled": cancelled}


@methods.method("dbt/history", HistoryParams)
async def history(ctx: Context, params: HistoryParams) -> dict[str, Any]:
    service = service_for(ctx.workspace)
    with service_errors():
        service.setup()
    mine = [r for r in service.history(200) if r["user"] == ctx.client.user]
    return {"invocations": mine[: params.limit]}


@methods.method("dbt/lineage", LineageParams)
async def lineage(ctx: Context, params: LineageParams) -> dict[str, Any]:
    service = service_for(ctx.workspace)
    path = relative_path(ctx.workspace, params.path)
    with service_errors():
        answer = await service.ask(
            "lineage", path=path, unique_id=params.unique_id,
            upstream=params.upstream, downstream=params.downstream,
        )  # fmt: skip
    raise_for_compile(answer)
    return dict(answer["result"])


@methods.method("dbt/catalog", NoParams)
async def catalog(ctx: Context, params: NoParams) -> dict[str, Any]:
    service = service_for(ctx.workspace)
    with service_errors():
        answer = await service.catalog()
    raise_for_compile(answer)
    return dict(answer["result"])
