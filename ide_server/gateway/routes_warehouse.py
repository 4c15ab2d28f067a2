"""The REST API of warehouse connections (per project, set by its admins) and development
credentials (per developer and project, each their own); see docs/api.md."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import admin, audit
from .accounts import Project, User
from .http import ApiError, current_user, json_body, services
from .warehouse_check import try_connection
from .warehouse_config import NO_CONNECTION, InvalidSettings, defaults

Handler = Callable[[Request, User, Project, str], Awaitable[Response]]


def _member(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The project in the path, for a caller with a role on it; 404 for anyone else."""

    async def wrapped(request: Request) -> Response:
        user = current_user(request)
        svc = services(request)
        project = await svc.accounts.project_by_name(request.path_params["name"])
        role = await svc.accounts.role_of(user, project.id) if project else None
        if project is None or role is None:
            raise ApiError(404, "project_not_found", "No such project is open to you.")
        try:
            return await handler(request, user, project, role)
        except InvalidSettings as exc:
            raise ApiError(400, "bad_request", str(exc)) from None

    return wrapped


@_member
async def get_connection(request: Request, user: User, project: Project, role: str) -> Response:
    connection = await services(request).warehouses.connection(project.id)
    if connection is None:
        raise ApiError(404, "no_connection", NO_CONNECTION)
    return JSONResponse(connection)


@_member
async def put_connection(request: Request, user: User, project: Project, role: str) -> Response:
    if role != "admin":
        raise ApiError(403, "forbidden", "Only the project's admins may set its connection.")
    body = await json_body(request, limit=64 * 1024)
    connection = await admin.set_connection(services(request), project.name, body, user.username)
    return JSONResponse(connection)


@_member
async def delete_connection(request: Request, user: User, project: Project, role: str) -> Response:
    if role != "admin":
        raise ApiError(403, "forbidden", "Only the project's admins may remove its connection.")
    if not await admin.remove_connection(services(request), project.name, user.username):
        raise ApiError(404, "no_connection", NO_CONNECTION)
    return Response(status_code=204)


async def _view(request: Request, user: User, project: Project) -> dict[str, Any]:
    svc = services(request)
    mine = await svc.warehouses.credentials_of(user.id, project.id)
    connection = await svc.warehouses.connection(project.id)
    return {**mine, "defaults": defaults(connection, user.username)}


@_member
async def get_credentials(request: Request, user: User, project: Project, role: str) -> Response:
    return JSONResponse(await _view(request, user, project))


@_member
async def put_credentials(request: Request, user: User, project: Project, role: str) -> Response:
    svc = services(request)
    body = await json_body(request, limit=16 * 1024)
    await svc.warehouses.set_credentials(user.id, project.id, body)
    await audit.record(
        svc.db,
        user.username,
        "dev_credentials.set",
        project=project.name,
        password="password" in body,
    )
    return JSONResponse(await _view(request, user, project))


@_member
async def delete_credentials(request: Request, user: User, project: Project, role: str) -> Response:
    svc = services(request)
    await svc.warehouses.delete_credentials(user.id, project.id)
    await audit.record(svc.db, user.username, "dev_credentials.delete", project=project.name)
    return Response(status_code=204)


@_member
async def post_test(request: Request, user: User, project: Project, role: str) -> Response:
    svc = services(request)
    settings = await svc.warehouses.for_pod(user.id, user.username, project.id)
    result = await try_connection(settings)
    await audit.record(
        svc.db, user.username, "dev_credentials.test", project=project.name, ok=result["ok"]
    )
    return JSONResponse(result)


ROUTES = [
    Route("/api/projects/{name}/connection", get_connection, methods=["GET"]),
    Route("/api/projects/{name}/connection", put_connection, methods=["PUT"]),
    Route("/api/projects/{name}/connection", delete_connection, methods=["DELETE"]),
    Route("/api/projects/{name}/credentials", get_credentials, methods=["GET"]),
    Route("/api/projects/{name}/credentials", put_credentials, methods=["PUT"]),
    Route("/api/projects/{name}/credentials", delete_credentials, methods=["DELETE"]),
    Route("/api/projects/{name}/credentials/test", post_test, methods=["POST"]),
]
