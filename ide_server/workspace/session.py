"""``session/*``: liveness and what the client may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .rpc import MethodRegistry
from .workspace import CallContext

methods = MethodRegistry()


@dataclass
class NoParams:
    pass


@methods.method("session/heartbeat", NoParams)
async def heartbeat(ctx: CallContext, params: NoParams) -> dict[str, Any]:
    return {"ok": True}


@methods.method("session/status", NoParams)
async def status(ctx: CallContext, params: NoParams) -> dict[str, Any]:
    return {
        "user": ctx.client.user,
        "role": ctx.client.role,
        "session_id": ctx.workspace.config.session_id,
        "methods": ctx.workspace.registry.names(),
    }
