"""``session/*``: liveness and what the client may do."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from .dbt.profiles import describe
from .rpc import MethodRegistry, NoParams
from .workspace import CallContext

methods = MethodRegistry()


class HeartbeatResult(TypedDict):
    ok: Literal[True]


class WarehouseInUse(TypedDict):
    """The connection this session's previews and dbt commands use (no login, no secret)."""

    type: Literal["duckdb", "postgres"]
    database: str  # DuckDB: the developer's own dev database's catalog name
    schema: str  # the target schema dbt builds into
    attached: list[str]  # DuckDB: the shared databases attached read-only, by alias


class SessionStatus(TypedDict):
    user: str
    role: Literal["admin", "developer", "read-only"]
    session_id: str
    methods: list[str]
    warehouse: WarehouseInUse | None  # None: the project has no warehouse connection


@methods.method("session/heartbeat", NoParams, result=HeartbeatResult)
async def heartbeat(ctx: CallContext, params: NoParams) -> dict[str, Any]:
    return {"ok": True}


@methods.method("session/status", NoParams, result=SessionStatus)
async def status(ctx: CallContext, params: NoParams) -> dict[str, Any]:
    return {
        "user": ctx.client.user,
        "role": ctx.client.role,
        "session_id": ctx.workspace.config.session_id,
        "methods": ctx.workspace.registry.names(),
        "warehouse": describe(ctx.workspace.config.warehouse, ctx.workspace.config.user),
    }
