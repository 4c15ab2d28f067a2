"""The REST API of a project's git hosting provider (see docs/api.md): members read it,
the project's admins set or clear it. The rules live in ``git_provider.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .accounts import Project, User
from .git_provider import InvalidProvider, clear_git_provider, set_git_provider
from .http import ApiError, json_body, services
from .routes_warehouse import _member

_GUESSED = {"kind": None, "web_url": None, "guessed": True}


def _project_admin(role: str) -> None:
    if role != "admin":
        raise ApiError(403, "forbidden", "Only the project's admins may set its git provider.")


@_member
async def get_provider(request: Request, user: User, project: Project, role: str) -> Response:
    setting = await services(request).git_providers.get(project.id)
    return JSONResponse({**setting, "guessed": False} if setting else _GUESSED)


@_member
async def put_provider(request: Request, user: User, project: Project, role: str) -> Response:
    _project_admin(role)
    body = await json_body(request, limit=8 * 1024)
    try:
        setting = await set_git_provider(services(request), project.name, body, user.username)
    except InvalidProvider as exc:
        raise ApiError(400, "bad_request", str(exc)) from None
    return JSONResponse({**setting, "guessed": False})


@_member
async def delete_provider(request: Request, user: User, project: Project, role: str) -> Response:
    _project_admin(role)
    await clear_git_provider(services(request), project.name, user.username)
    return Response(status_code=204)


_PATH = "/api/projects/{name}/git-provider"
ROUTES = [
    Route(_PATH, get_provider, methods=["GET"]),
    Route(_PATH, put_provider, methods=["PUT"]),
    Route(_PATH, delete_provider, methods=["DELETE"]),
]
