"""Small helpers shared by the routes: JSON errors and the caller's identity."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from .accounts import User


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
