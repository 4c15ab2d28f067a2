"""The admins' REST tools over projects and the audit log, and the caller's own logins
(see docs/api.md). The operations live in ``admin.py`` and ``admin_projects.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import admin, admin_projects, audit
from .accounts import User
from .http import ApiError, current_user, json_body, require_str, services
from .logins import COOKIE
from .remote_branches import BranchMissing, RemoteUnreachable
from .routes_admin import _admin


def _optional_str(body: dict[str, Any], name: str, max_length: int = 1024) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise ApiError(400, "bad_request", f"'{name}' must be a string.")
    return value


def _remote_refusal(exc: RemoteUnreachable | BranchMissing) -> Response:
    if isinstance(exc, BranchMissing):
        error = {"code": "branch_missing", "message": str(exc), "branches": exc.branches}
    else:
        error = {"code": "remote_unreachable", "message": str(exc)}
    return JSONResponse({"error": error}, status_code=400)


@_admin
async def add_project(request: Request, actor: User) -> Response:
    body = await json_body(request)
    try:
        view = await admin_projects.add_project(
            services(request),
            require_str(body, "name", max_length=64),
            require_str(body, "git_url", max_length=2048),
            _optional_str(body, "default_branch", 255) or "main",
            deploy_token=_optional_str(body, "deploy_token", 4096) or "",
            actor=actor.username,
        )
    except (RemoteUnreachable, BranchMissing) as exc:
        return _remote_refusal(exc)
    return JSONResponse(view, status_code=201)


@_admin
async def edit_project(request: Request, actor: User) -> Response:
    body = await json_body(request)
    try:
        view = await admin_projects.edit_project(
            services(request),
            request.path_params["project"],
            git_url=_optional_str(body, "git_url", 2048),
            default_branch=_optional_str(body, "default_branch", 255),
            actor=actor.username,
        )
    except (RemoteUnreachable, BranchMissing) as exc:
        return _remote_refusal(exc)
    return JSONResponse(view)


@_admin
async def add_member(request: Request, actor: User) -> Response:
    body = await json_body(request)
    return JSONResponse(
        await admin.add_member(
            services(request),
            request.path_params["project"],
            require_str(body, "username", max_length=64),
            require_str(body, "role", max_length=32),
            actor.username,
        )
    )


@_admin
async def put_deploy_token(request: Request, actor: User) -> Response:
    token = require_str(await json_body(request), "token", max_length=4096)
    return JSONResponse(
        await admin_projects.set_deploy_token(
            services(request), request.path_params["project"], token, actor.username
        )
    )


@_admin
async def delete_deploy_token(request: Request, actor: User) -> Response:
    await admin_projects.delete_deploy_token(
        services(request), request.path_params["project"], actor.username
    )
    return Response(status_code=204)


def _time(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "bad_request", f"'{name}' must be an ISO 8601 time.") from None


def _int(request: Request, name: str, default: int | None, top: int) -> int | None:
    value = request.query_params.get(name)
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) <= top:
        raise ApiError(400, "bad_request", f"'{name}' must be a number from 1 to {top}.")
    return int(value)


@_admin
async def audit_log(request: Request, actor: User) -> Response:
    query = request.query_params
    entries = await audit.query(
        services(request).db,
        actor=query.get("actor") or None,
        action=query.get("action") or None,
        since=_time(request, "since"),
        until=_time(request, "until"),
        before_id=_int(request, "before", None, 2**62),
        limit=_int(request, "limit", 100, 1000) or 100,
    )
    return JSONResponse(entries)


async def my_logins(request: Request) -> Response:
    user = current_user(request)
    logins = await services(request).logins.list_of(user.id, current=request.cookies.get(COOKIE))
    return JSONResponse(logins)


async def end_my_logins(request: Request) -> Response:
    """Sign out everywhere: every login of the caller ends, this one too."""
    user = current_user(request)
    svc = services(request)
    ended = await svc.logins.end_all(user.id)
    await audit.record(svc.db, user.username, "logins.end_all", logins_ended=ended)
    response = JSONResponse({"logins_ended": ended})
    response.delete_cookie(COOKIE, path="/")
    return response


_PROJECT = "/api/admin/projects/{project}"
ROUTES = [
    Route("/api/admin/projects", add_project, methods=["POST"]),
    Route(_PROJECT, edit_project, methods=["PATCH"]),
    Route(_PROJECT + "/members", add_member, methods=["POST"]),
    Route(_PROJECT + "/deploy-token", put_deploy_token, methods=["PUT"]),
    Route(_PROJECT + "/deploy-token", delete_deploy_token, methods=["DELETE"]),
    Route("/api/admin/audit", audit_log, methods=["GET"]),
    Route("/api/me/logins", my_logins, methods=["GET"]),
    Route("/api/me/logins", end_my_logins, methods=["DELETE"]),
]
