"""The WebSocket half of the session proxy: connect to the pod, then pump frames both ways.

Frames from the client pass the read-only and share-mode filter, have their presence
(awareness) stamped with the login's identity (:mod:`.awareness`) and are counted as
activity (:mod:`.proxy_filters`); frames from the pod pass unchanged. When either side closes, the
other is closed with the pod's close code (1003 tells the editor to re-open a document).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import websockets
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection

from .awareness import AWARENESS, AwarenessGuard, identity
from .logins import COOKIE
from .middleware import cookie_value
from .proxy_filters import counts_as_activity, pod_path, refuse_frame
from .revocation import OpenSocket

if TYPE_CHECKING:
    from .proxy import Target
    from .services import Services

log = logging.getLogger(__name__)

# What a lost pod connection turns into for the client: "internal error", with a reason.
_GONE = (1011, "session pod went away")


async def proxy_websocket(
    services: Services, target: Target, scope: Scope, receive: Receive, send: Send
) -> None:
    """Connect to the pod first, so a dead pod is a refused upgrade; then accept and pump."""
    row = target.row
    headers = target.headers(scope, services.manager.pod_token(row))
    limit = services.config.max_message_bytes
    try:
        upstream = await connect(row.endpoint or "", pod_path(scope), headers, limit)
    except (OSError, websockets.InvalidHandshake, TimeoutError):
        await services.manager.pod_gone(row.id)
        await send({"type": "websocket.close", "code": 1011, "reason": "session pod unreachable"})
        return
    message = await receive()
    if message["type"] != "websocket.connect":
        await upstream.close()
        return
    await send({"type": "websocket.accept"})
    sock = _register(services, target, scope)
    kind = "room" if target.rest.startswith("/api/collaboration/") else "ide"
    try:
        with services.metrics.websocket_open(kind):
            async with upstream:
                client = _ClientToPod(services, target, sock, receive, send, upstream)
                await _pump(client, upstream, send)
    finally:
        if services.sockets is not None:
            services.sockets.unregister(sock)


def _register(services: Services, target: Target, scope: Scope) -> OpenSocket:
    """The socket in the registry whose revalidation closes or downgrades it (see
    :mod:`.revocation`); a gateway without one (no session management) only keeps the role."""
    token = cookie_value(Headers(scope=scope), COOKIE) or ""
    if services.sockets is None:
        return OpenSocket(b"", target.row.id, target.role, target.guest_mode)
    return services.sockets.register(token, target.row.id, target.role, target.guest_mode)


async def connect(
    endpoint: str, path: str, headers: dict[str, str], limit: int
) -> ClientConnection:
    """A WebSocket to the pod over its endpoint: ``unix:/path`` or ``http://host:port``."""
    common: dict[str, Any] = {
        "additional_headers": headers,
        "max_size": limit,
        "open_timeout": 10,
        "ping_interval": None,
        "compression": None,
    }
    if endpoint.startswith("unix:"):
        return await websockets.unix_connect(endpoint[5:], uri=f"ws://pod{path}", **common)
    base = endpoint.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return await websockets.connect(base.rstrip("/") + path, **common)


class _ClientToPod:
    """The client's frames, filtered, to the pod, until the client disconnects."""

    def __init__(
        self,
        services: Services,
        target: Target,
        sock: OpenSocket,
        receive: Receive,
        send: Send,
        upstream: ClientConnection,
    ) -> None:
        self.services = services
        self.target = target
        self.sock = sock
        self.receive = receive
        self.send = send
        self.upstream = upstream
        user = target.user
        self.awareness = AwarenessGuard(identity(user.username, user.display_name))
        self.in_room = target.rest.startswith("/api/collaboration/room/")

    async def run(self) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "websocket.disconnect":
                return  # the caller says goodbye for it, then closes the pod's side
            data = message.get("text")
            await self.forward(data if data is not None else message.get("bytes") or b"")

    async def forward(self, data: str | bytes) -> None:
        target = self.target
        # The socket's current role: revalidation may have lowered it since the upgrade.
        role = self.sock.role
        svc = self.services
        refusal = refuse_frame(
            target.rest, role, data, svc.write_methods, self.sock.guest_mode, svc.guest_modes
        )
        if refusal is not None:
            if refusal:  # a JSON-RPC error for the request; a dropped frame gets nothing
                await self.send({"type": "websocket.send", "text": refusal})
            return
        if self.in_room and isinstance(data, bytes) and data[:1] == bytes([AWARENESS]):
            # Presence is stamped with the login's name and colour (awareness.py).
            stamped = self.awareness.rewrite(data)
            if stamped is None:
                return
            data = stamped
        if counts_as_activity(target.rest, data):
            # Noted, written in the background: a database outage never holds up a frame.
            self.services.activity.note(target.row.id)
        await self.upstream.send(data)

    async def say_goodbye(self) -> None:
        """Tell the room this socket's participant left (see AwarenessGuard.farewell)."""
        farewell = self.awareness.farewell() if self.in_room else None
        if farewell is None:
            return
        with contextlib.suppress(websockets.ConnectionClosed, OSError, TimeoutError):
            await asyncio.wait_for(self.upstream.send(farewell), 2)


async def _pod_to_client(upstream: ClientConnection, send: Send) -> None:
    """The pod's frames to the client; then its close code, or 1011 if it just went away."""
    try:
        async for data in upstream:
            if isinstance(data, str):
                await send({"type": "websocket.send", "text": data})
            else:
                await send({"type": "websocket.send", "bytes": data})
    except websockets.ConnectionClosed:
        pass
    code, reason = upstream.close_code or _GONE[0], upstream.close_reason or ""
    if code in (1005, 1006):  # no close frame: the pod died or the connection broke
        code, reason = _GONE
    await send({"type": "websocket.close", "code": code, "reason": reason})


async def _pump(client: _ClientToPod, upstream: ClientConnection, send: Send) -> None:
    """Run both directions until either ends, then stop the other."""
    revoked = asyncio.ensure_future(client.sock.revoked.wait())
    tasks = [
        asyncio.ensure_future(client.run()),
        asyncio.ensure_future(_pod_to_client(upstream, send)),
        revoked,
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.say_goodbye()
    if revoked in done:  # the pod side is closed by the caller's ``async with upstream``
        reason = client.sock.reason[:120]
        await send({"type": "websocket.close", "code": client.sock.code, "reason": reason})
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None and not isinstance(error, (websockets.ConnectionClosed, OSError)):
            log.warning("websocket proxy for session %s ended with %r", client.target.row.id, error)
