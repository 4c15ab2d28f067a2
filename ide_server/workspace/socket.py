"""The ``/ide`` WebSocket: one per browser tab, JSON-RPC 2.0 text frames."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .rpc import UNAVAILABLE, RpcError, dispatch_message, error_response, parse_message
from .workspace import CallContext, Workspace

log = logging.getLogger(__name__)

ROLES = ("admin", "developer", "read-only")
MAX_CALLS_IN_FLIGHT = 64
# Heartbeats keep a socket open through proxies; they are not a sign of work.
_NOT_ACTIVITY = frozenset({"session/heartbeat"})


class IdeSocketHandler(WebSocketHandler, JupyterHandler):
    """Dispatches each text frame to the workspace's methods; never dies on a bad frame."""

    workspace: Workspace
    user: str
    role: str

    def initialize(self, workspace: Workspace) -> None:  # type: ignore[override]
        self.workspace = workspace
        # Set by the gateway, which alone holds the pod token that authenticated this request.
        self.user = self.request.headers.get("X-IDE-User", workspace.config.user)
        role = self.request.headers.get("X-IDE-Role", "read-only")
        self.role = role if role in ROLES else "read-only"
        self._send_lock = asyncio.Lock()
        # Writes of one tab apply in the order they were sent; reads need not wait.
        self._write_lock = asyncio.Lock()
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def max_message_size(self) -> int:  # type: ignore[override]
        return self.workspace.config.max_message_bytes

    def check_origin(self, origin_to_satisfy_tornado: str = "") -> bool:
        # The gateway checked the browser's Origin; only it can reach this socket.
        return True

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        # Small JSON frames: without this, Nagle and delayed ACKs add ~40 ms per answer.
        self.set_nodelay(True)
        self.workspace.clients.add(self)
        self.workspace.mark_active()

    def on_close(self) -> None:
        self.workspace.clients.discard(self)

    async def on_message(self, frame: str | bytes) -> None:
        message = parse_message(frame)  # once: a frame may be megabytes of file content
        fields = message if isinstance(message, dict) else {}
        name = fields.get("method")
        if name not in _NOT_ACTIVITY:
            self.workspace.mark_active()
        if len(self._calls) >= MAX_CALLS_IN_FLIGHT:
            error = RpcError(
                UNAVAILABLE,
                f"more than {MAX_CALLS_IN_FLIGHT} calls in flight; "
                "wait for answers before sending more",
            )
            await self._send(error_response(fields.get("id"), error))
            return
        try:
            method = self.workspace.registry.get(name) if isinstance(name, str) else None
        except Exception:  # a family that fails to import: the dispatch answers with that
            method = None
        ctx = CallContext(self.workspace, self)
        # Each call runs on its own so that a slow one (a pull) does not hold up the rest.
        ordered = method is not None and method.writes
        task = asyncio.ensure_future(self._answer(ctx, message, ordered))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _answer(self, ctx: CallContext, message: Any, ordered: bool) -> None:
        registry = self.workspace.registry
        if ordered:
            async with self._write_lock:
                reply = await dispatch_message(registry, ctx, message)
        else:
            reply = await dispatch_message(registry, ctx, message)
        if reply is not None:
            await self._send(reply)

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        await self.notify_encoded(method, json.dumps(dict(params)))

    async def notify_encoded(self, method: str, params: str) -> None:
        # A preview's rows come from the SQL kernel as JSON text: spliced in, they are
        # neither parsed nor encoded again in this process.
        if not self.workspace.registry.has_notification(method):
            # Sent anyway; the frontend's generated map will not know it. Declare it.
            log.error("notification %s is not declared in the registry", method)
        await self._write(f'{{"jsonrpc":"2.0","method":{json.dumps(method)},"params":{params}}}')

    async def _send(self, payload: Mapping[str, Any]) -> None:
        await self._write(json.dumps(payload))

    async def _write(self, text: str) -> None:
        async with self._send_lock:
            try:
                await self.write_message(text)
            except WebSocketClosedError:
                log.debug("client went away before its answer")
