"""The reverse proxy to session pods: ``/sessions/{id}/...``, HTTP and WebSocket.

The browser reaches a pod only here. Every request is checked (login, access to the
session, role, and for upgrades the Origin, already checked by OriginMiddleware), then
forwarded with the pod's token. Only the IDE socket and the collaboration routes of the
pod are reachable: the rest of the Jupyter server (contents, kernels) is not exposed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
import websockets
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection

from session_manager.states import State
from session_manager.store import SessionRow

from .accounts import User
from .http import error_response
from .proxy_filters import counts_as_activity, refuse_for_read_only
from .services import Services

log = logging.getLogger(__name__)

_PATH = re.compile(r"^/sessions/(?P<id>[0-9a-f]{32})(?P<rest>/.*)?$")
# The pod routes a browser may reach, relative to the session's base path.
_ALLOWED = re.compile(r"^/(ide|api/collaboration/(session|room)/.+)$")
_HOP_HEADERS = frozenset(
    {
        "host",
        "cookie",
        "authorization",
        "origin",
        "connection",
        "upgrade",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-authenticate",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "content-length",
        # What a client says about the route it came by is not for the pod to believe.
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-real-ip",
    }
)


@dataclass(frozen=True)
class Target:
    row: SessionRow
    user: User
    role: str
    rest: str  # the path below /sessions/{id}

    def headers(self, incoming: Headers, token: str) -> dict[str, str]:
        out = {
            k: v
            for k, v in incoming.items()
            if k.lower() not in _HOP_HEADERS and not k.lower().startswith("x-ide-")
        }
        out["authorization"] = f"token {token}"
        out["x-ide-user"] = self.user.username
        out["x-ide-role"] = self.role
        return out


class SessionProxy:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target, problem = await self._resolve(scope)
        if target is None:
            status, code, message = problem
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            else:
                await error_response(status, code, message)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, target)
        else:
            await self._http(scope, receive, send, target)

    async def _resolve(self, scope: Scope) -> tuple[Target | None, tuple[int, str, str]]:
        match = _PATH.match(scope["path"])
        user = scope.get("user")
        if not isinstance(user, User):
            return None, (401, "not_authenticated", "Log in first.")
        if match is None:
            return None, (404, "session_not_found", "No such session.")
        rest = match["rest"] or "/"
        svc = self.services
        row = await svc.store.get(match["id"])
        role = await svc.accounts.session_role(user, row.user_id, row.project_id) if row else None
        if row is None or role is None:
            return None, (404, "session_not_found", "No such session.")
        # Dot segments would be collapsed on the way to the pod, after this check.
        if not _ALLOWED.match(rest) or any(s in (".", "..") for s in rest.split("/")):
            return None, (404, "not_found", "Not a route of the session.")
        if row.state != State.READY or not row.endpoint:
            return None, (
                409,
                "session_not_ready",
                f"The session is {row.state}; open the project to start it.",
            )
        return Target(row, user, role, rest), (200, "", "")

    async def _http(self, scope: Scope, receive: Receive, send: Send, target: Target) -> None:
        method = scope["method"]
        if (
            target.role == "read-only"
            and method not in ("GET", "HEAD", "OPTIONS")
            and not target.rest.startswith("/api/collaboration/session/")
        ):
            await error_response(403, "read_only", "Your role on this project is read-only.")(
                scope, receive, send
            )
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.services.config.max_message_bytes:
                await error_response(413, "too_large", "The request body is too large.")(
                    scope, receive, send
                )
                return
            if not message.get("more_body"):
                break
        row = target.row
        token = self.services.manager.pod_token(row)
        url = scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        client = self.services.pods.get(row.endpoint or "")
        try:
            response = await client.request(
                method, url, content=body, headers=target.headers(Headers(scope=scope), token)
            )
        except httpx.TransportError:
            await self.services.manager.pod_gone(row.id)
            await error_response(
                502,
                "pod_unreachable",
                "The session pod is not answering; open the project again to restart it.",
            )(scope, receive, send)
            return
        await self.services.manager.note_activity(row.id)
        headers = [
            (k.encode(), v.encode())
            for k, v in response.headers.items()
            if k.lower() not in _HOP_HEADERS
            and k.lower() != "set-cookie"
            and k.lower() != "content-encoding"
        ]
        headers.append((b"content-length", str(len(response.content)).encode()))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": response.content})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, target: Target) -> None:
        row = target.row
        token = self.services.manager.pod_token(row)
        path = scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        headers = target.headers(Headers(scope=scope), token)
        limit = self.services.config.max_message_bytes
        try:
            upstream = await _connect(row.endpoint or "", path, headers, limit)
        except (OSError, websockets.InvalidHandshake, TimeoutError):
            await self.services.manager.pod_gone(row.id)
            await send(
                {"type": "websocket.close", "code": 1011, "reason": "session pod unreachable"}
            )
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            await upstream.close()
            return
        await send({"type": "websocket.accept"})
        async with upstream:
            await _pump(self.services, target, receive, send, upstream)


async def _connect(
    endpoint: str, path: str, headers: dict[str, str], limit: int
) -> ClientConnection:
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


async def _pump(
    services: Services, target: Target, receive: Receive, send: Send, upstream: ClientConnection
) -> None:
    """Copy frames both ways until either side closes; pass the close code on."""

    async def client_to_pod() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close()
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            refusal = refuse_for_read_only(target.rest, target.role, data, services.write_methods)
            if refusal is not None:
                if refusal:
                    await send({"type": "websocket.send", "text": refusal})
                continue
            if counts_as_activity(target.rest, data):
                await services.manager.note_activity(target.row.id)
            await upstream.send(data)

    async def pod_to_client() -> None:
        try:
            async for data in upstream:
                if isinstance(data, str):
                    await send({"type": "websocket.send", "text": data})
                else:
                    await send({"type": "websocket.send", "bytes": data})
        except websockets.ConnectionClosed:
            pass
        code = upstream.close_code or 1011
        reason = upstream.close_reason or ""
        if code in (1005, 1006):
            code, reason = 1011, "session pod went away"
        await send({"type": "websocket.close", "code": code, "reason": reason})

    tasks = [asyncio.ensure_future(client_to_pod()), asyncio.ensure_future(pod_to_client())]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if (
            not task.cancelled()
            and task.exception() is not None
            and not isinstance(task.exception(), (websockets.ConnectionClosed, OSError))
        ):
            log.warning(
                "websocket proxy for session %s ended with %r", target.row.id, task.exception()
            )
