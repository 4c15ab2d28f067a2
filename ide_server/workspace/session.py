"""``session/*``: liveness and what the client may do."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from .rpc import MethodRegistry, NoParams
from .workspace import CallContext

methods = MethodRegistry()


class HeartbeatResult(TypedDict):
    ok: Literal[True]


class SessionStatus(TypedDict):
    user: str
    role: Literal["admin", "developer", "read-only"]
    session_id: str
    methods: list[str]


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
    }
