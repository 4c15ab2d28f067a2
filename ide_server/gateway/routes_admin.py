"""The REST API that changes access: one's own password, and the admins' tools over users,
members and projects (see docs/api.md). The operations themselves live in ``admin.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import admin, audit, break_glass
from .accounts import MAX_PASSWORD_LENGTH, AccountError, AccountNotFound, User
from .http import ApiError, current_user, json_body, require_str, services
from .logins import COOKIE
from .passwords import verify_password_async
from .services import Services
from .throttle import Throttled, address_key

Handler = Callable[[Request], Awaitable[Response]]


def _services(request: Request) -> Services:
    return services(request)


def _account_errors(handler: Handler) -> Handler:
    """AccountError is bad input (400), AccountNotFound a missing name (404)."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except AccountNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except AccountError as exc:
            raise ApiError(400, "bad_request", str(exc)) from None

    return wrapped


def _admin(handler: Callable[[Request, User], Awaitable[Response]]) -> Handler:
    async def wrapped(request: Request) -> Response:
        user = current_user(request)
        if not user.is_admin:
            raise ApiError(403, "forbidden", "Only admins may change other users' access.")
        return await handler(request, user)

    return _account_errors(wrapped)


@_account_errors
async def change_password(request: Request) -> Response:
    """The caller's own password; every *other* login of theirs ends."""
    user = current_user(request)
    svc = _services(request)
    body = await json_body(request)
    current = require_str(body, "current_password", max_length=MAX_PASSWORD_LENGTH)
    new = require_str(body, "new_password", max_length=MAX_PASSWORD_LENGTH)
    address = address_key(request.client.host if request.client else None)
    try:
        # A stolen cookie must not become a way to guess the password without limit.
        await svc.throttle.reserve(address, user.username)
    except Throttled as exc:
        raise ApiError(
            429, "too_many_attempts", str(exc), {"Retry-After": str(exc.retry_after)}
        ) from None
    _, hashed = await svc.accounts.password_hash(user.username)
    if not await verify_password_async(current, hashed):
        await audit.record(svc.db, user.username, "password.change_failed")
        raise ApiError(403, "wrong_password", "The current password is not right.")
    await svc.throttle.succeeded(address, user.username)
    await svc.accounts.set_password(user.username, new)
    ended = await svc.logins.end_all(user.id, keep=request.cookies.get(COOKIE))
    await audit.record(svc.db, user.username, "password.change", logins_ended=ended)
    return Response(status_code=204)


@_admin
async def list_users(request: Request, actor: User) -> Response:
    return JSONResponse(await admin.list_users(_services(request)))


@_admin
async def create_user(request: Request, actor: User) -> Response:
    body = await json_body(request)
    is_admin = body.get("is_admin", False)
    if not isinstance(is_admin, bool):
        raise ApiError(400, "bad_request", "'is_admin' must be true or false.")
    extra = {k: body.get(k) or "" for k in ("email", "display_name")}
    if not all(isinstance(v, str) and len(v) <= 256 for v in extra.values()):
        raise ApiError(400, "bad_request", "'email' and 'display_name' must be strings.")
    user = await admin.create_user(
        _services(request),
        require_str(body, "username", max_length=64),
        require_str(body, "password", max_length=MAX_PASSWORD_LENGTH),
        is_admin=is_admin,
        actor=actor.username,
        **extra,
    )
    return JSONResponse(user, status_code=201)


@_admin
async def set_admin(request: Request, actor: User) -> Response:
    is_admin = (await json_body(request)).get("is_admin")
    if not isinstance(is_admin, bool):
        raise ApiError(400, "bad_request", "'is_admin' must be true or false.")
    name = request.path_params["username"]
    if name == actor.username and not is_admin:
        raise ApiError(400, "bad_request", "You cannot take your own admin role away.")
    return JSONResponse(await admin.set_admin(_services(request), name, is_admin, actor.username))


@_admin
async def set_break_glass(request: Request, actor: User) -> Response:
    """Whether the user may log in with a password while IDE_AUTH_MODE=oidc (audited)."""
    on = (await json_body(request)).get("break_glass")
    if not isinstance(on, bool):
        raise ApiError(400, "bad_request", "'break_glass' must be true or false.")
    name = request.path_params["username"]
    return JSONResponse(
        await break_glass.set_break_glass(_services(request), name, on, actor.username)
    )


@_admin
async def disable_user(request: Request, actor: User) -> Response:
    name = request.path_params["username"]
    if name == actor.username:
        raise ApiError(400, "bad_request", "You cannot disable yourself.")
    return JSONResponse(await admin.disable_user(_services(request), name, actor.username))


@_admin
async def enable_user(request: Request, actor: User) -> Response:
    name = request.path_params["username"]
    return JSONResponse(await admin.enable_user(_services(request), name, actor.username))


@_admin
async def reset_password(request: Request, actor: User) -> Response:
    body = await json_body(request)
    password = require_str(body, "password", max_length=MAX_PASSWORD_LENGTH)
    name = request.path_params["username"]
    return JSONResponse(
        await admin.reset_password(_services(request), name, password, actor.username)
    )


@_admin
async def remove_user(request: Request, actor: User) -> Response:
    volumes = _volumes_choice(request, "the user's")
    try:
        result = await admin.remove_user(
            _services(request),
            request.path_params["username"],
            delete_volumes=volumes == "delete",
            actor=actor.username,
        )
    except admin.StoreUnreachable as exc:
        raise ApiError(503, "store_unavailable", str(exc)) from None
    return JSONResponse(result)


def _volumes_choice(request: Request, whose: str) -> str:
    volumes = request.query_params.get("volumes")
    if volumes not in ("keep", "delete"):
        raise ApiError(
            400,
            "bad_request",
            f"Say what becomes of {whose} volumes: ?volumes=keep or ?volumes=delete.",
        )
    return volumes


@_admin
async def list_projects(request: Request, actor: User) -> Response:
    return JSONResponse(await admin.list_projects(_services(request)))


@_admin
async def remove_project(request: Request, actor: User) -> Response:
    volumes = _volumes_choice(request, "the project's")
    result: dict[str, Any] = await admin.remove_project(
        _services(request),
        request.path_params["project"],
        delete_volumes=volumes == "delete",
        actor=actor.username,
    )
    return JSONResponse(result)


@_admin
async def list_members(request: Request, actor: User) -> Response:
    return JSONResponse(
        await admin.list_members(_services(request), request.path_params["project"])
    )


@_admin
async def set_role(request: Request, actor: User) -> Response:
    body = await json_body(request)
    role = require_str(body, "role", max_length=32)
    params = request.path_params
    return JSONResponse(
        await admin.set_role(
            _services(request), params["project"], params["username"], role, actor.username
        )
    )


@_admin
async def remove_member(request: Request, actor: User) -> Response:
    params = request.path_params
    return JSONResponse(
        await admin.remove_member(
            _services(request), params["project"], params["username"], actor.username
        )
    )


_MEMBER = "/api/admin/projects/{project}/members/{username}"
ROUTES = [
    Route("/api/me/password", change_password, methods=["POST"]),
    Route("/api/admin/users", list_users, methods=["GET"]),
    Route("/api/admin/users", create_user, methods=["POST"]),
    Route("/api/admin/users/{username}", remove_user, methods=["DELETE"]),
    Route("/api/admin/users/{username}/admin", set_admin, methods=["PUT"]),
    Route("/api/admin/users/{username}/break-glass", set_break_glass, methods=["PUT"]),
    Route("/api/admin/users/{username}/disable", disable_user, methods=["POST"]),
    Route("/api/admin/users/{username}/enable", enable_user, methods=["POST"]),
    Route("/api/admin/users/{username}/password", reset_password, methods=["PUT"]),
    Route("/api/admin/projects", list_projects, methods=["GET"]),
    Route("/api/admin/projects/{project}", remove_project, methods=["DELETE"]),
    Route("/api/admin/projects/{project}/members", list_members, methods=["GET"]),
    Route(_MEMBER, set_role, methods=["PUT"]),
    Route(_MEMBER, remove_member, methods=["DELETE"]),
]
