"""The reverse proxy to session pods: ``/sessions/{id}/...``, HTTP and WebSocket.

The browser reaches a pod only here. Every request is checked (login, access to the
session, role, and for upgrades the Origin, already checked by OriginMiddleware), then
forwarded with the pod's token. Only the IDE socket and the collaboration routes of the
pod are reachable (:func:`.proxy_filters.allowed_route`). WebSocket traffic is pumped by
:mod:`.proxy_socket`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from session_manager.states import State
from session_manager.store import SessionRow

from .access import session_access
from .accounts import User
from .http import ErrorAnswer
from .proxy_filters import (
    allowed_route,
    pod_path,
    refuse_http_for_read_only,
    request_headers,
    response_headers,
)
from .proxy_socket import proxy_websocket
from .services import Services

_PATH = re.compile(r"^/sessions/(?P<id>[0-9a-f]{32})(?P<rest>/.*)?$")


@dataclass(frozen=True)
class Target:
    """A checked request: the ready session it goes to, and who asks in which role (and,
    for a guest, in which share mode)."""

    row: SessionRow
    user: User
    role: str
    rest: str  # the path below /sessions/{id}
    guest_mode: str | None = None  # a guest's share mode; None for the owner or an admin

    def headers(self, scope: Scope, token: str) -> dict[str, str]:
        incoming = Headers(scope=scope).items()
        return request_headers(incoming, token=token, user=self.user.username, role=self.role)


class SessionProxy:
    """Mounted at ``/sessions``; sees the full path (a mount keeps ``path`` and ``raw_path``)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = await self._resolve(scope)
        if isinstance(target, ErrorAnswer):
            await target(scope, receive, send)
        elif scope["type"] == "websocket":
            await proxy_websocket(self.services, target, scope, receive, send)
        else:
            await self._http(scope, receive, send, target)

    async def _resolve(self, scope: Scope) -> Target | ErrorAnswer:
        """The target of the request, or the refusal to answer with."""
        match = _PATH.match(scope["path"])
        user = scope.get("user")
        if not isinstance(user, User):
            return _refusal(401, "not_authenticated", "Log in first.")
        if match is None:
            return _refusal(404, "session_not_found", "No such session.")
        rest = match["rest"] or "/"
        svc = self.services
        row = await svc.store.get(match["id"])
        access = await session_access(svc.db, user.id, row.id) if row else None
        if row is None or access is None:
            return _refusal(404, "session_not_found", "No such session.")
        if not allowed_route(rest):
            return _refusal(404, "not_found", "Not a route of the session.")
        if row.state != State.READY or not row.endpoint:
            return _refusal(
                409,
                "session_not_ready",
                f"The session is {row.state}; open the project to start it.",
            )
        return Target(row, user, access.role, rest, access.guest_mode)

    # -- HTTP: refuse, read the body, forward, relay ----------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send, target: Target) -> None:
        if refuse_http_for_read_only(target.rest, target.role, scope["method"]):
            answer = _refusal(403, "read_only", "Your role on this project is read-only.")
            await answer(scope, receive, send)
            return
        body = await read_body(receive, self.services.config.max_message_bytes)
        if body is None:
            await _refusal(413, "too_large", "The request body is too large.")(scope, receive, send)
            return
        began = time.monotonic()
        response = await self._forward(scope, target, body)
        self.services.metrics.proxy_request.observe(time.monotonic() - began)
        if response is None:
            await _refusal(
                502,
                "pod_unreachable",
                "The session pod is not answering; open the project again to restart it.",
            )(scope, receive, send)
            return
        self.services.activity.note(target.row.id)  # written in the background
        headers = response_headers(response.headers.items(), len(response.content))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": response.content})

    async def _forward(self, scope: Scope, target: Target, body: bytes) -> httpx.Response | None:
        """The pod's answer, or None when it cannot be reached (then it may be gone)."""
        row = target.row
        token = self.services.manager.pod_token(row)
        client = self.services.pods.get(row.endpoint or "")
        try:
            return await client.request(
                scope["method"], pod_path(scope), content=body, headers=target.headers(scope, token)
            )
        except httpx.TransportError:
            await self.services.manager.pod_gone(row.id)
            return None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _refusal(status: int, code: str, message: str) -> ErrorAnswer:
    # Before the upgrade is accepted, a close is the refusal a browser sees (as 403).
    return ErrorAnswer(status, code, message, close_code=1008)
