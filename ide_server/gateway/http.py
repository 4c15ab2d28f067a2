"""Small helpers shared by the routes: JSON errors and the caller's identity."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from .accounts import User

if TYPE_CHECKING:
    from .logins import Logins
    from .services import Services


class GatewayState(TypedDict):
    """What the lifespan hands every request in ``scope["state"]``."""

    services: Services
    logins: Logins


def services(conn: HTTPConnection) -> Services:
    """The started services of the gateway, from the lifespan state."""
    return conn.state.services  # type: ignore[no-any-return]


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


class ErrorAnswer(JSONResponse):
    """An error for either kind of connection: the JSON error over HTTP; on a WebSocket
    (not yet accepted, or accepted) a close with ``close_code`` and a short reason."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        close_code: int,
        headers: dict[str, str] | None = None,
        accept_then_close: bool = False,
    ) -> None:
        super().__init__(
            {"error": {"code": code, "message": message}}, status_code=status, headers=headers
        )
        self.close_code = close_code
        # An upgrade refused before it is accepted is an HTTP 403 to the client; a code a
        # client acts on (1013: try again later) needs the upgrade accepted first.
        self.accept_then_close = accept_then_close
        # A close reason is limited to 123 bytes; the message is for a person anyway.
        self.reason = message.encode()[:120].decode(errors="ignore")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if self.accept_then_close and (await receive())["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": self.close_code, "reason": self.reason})
            return
        await super().__call__(scope, receive, send)


def current_user(conn: HTTPConnection) -> User:
    user = conn.scope.get("user")
    if not isinstance(user, User):
        raise ApiError(401, "not_authenticated", "Log in first.")
    return user


async def json_body(request: Request, limit: int = 1 << 20) -> dict[str, Any]:
    body = await request.body()
    if len(body) > limit:
        raise ApiError(413, "too_large", "The request body is too large.")
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "bad_json", "The request body must be a JSON object.")
    return value


def require_str(body: dict[str, Any], name: str, *, max_length: int = 1024) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ApiError(400, "bad_request", f"'{name}' must be a non-empty string.")
    return value
