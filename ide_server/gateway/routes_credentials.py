"""Setting the git tokens a pod needs (never shown back). Warehouse credentials are per
project: see ``routes_warehouse.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import audit
from .credentials import GIT_TOKEN
from .http import ApiError, current_user, json_body, require_str, services


async def put_git_token(request: Request) -> Response:
    user = current_user(request)
    token = require_str(await json_body(request), "token", max_length=4096)
    svc = services(request)
    await svc.credentials.put(GIT_TOKEN, token, user_id=user.id)
    await audit.record(svc.db, user.username, "git_token.set")
    return JSONResponse({"git_token_set": True, "hint": _hint(token)})


async def delete_git_token(request: Request) -> Response:
    user = current_user(request)
    await services(request).credentials.delete(GIT_TOKEN, user_id=user.id)
    return Response(status_code=204)


async def put_deploy_token(request: Request) -> Response:
    user = current_user(request)
    if not user.is_admin:
        raise ApiError(403, "forbidden", "Only admins may set a project's deploy token.")
    svc = services(request)
    project = await svc.accounts.project_by_name(request.path_params["name"])
    if project is None:
        raise ApiError(404, "project_not_found", "No such project.")
    token = require_str(await json_body(request), "token", max_length=4096)
    await svc.credentials.put(GIT_TOKEN, token, project_id=project.id)
    await audit.record(svc.db, user.username, "deploy_token.set", project=project.name)
    return JSONResponse({"deploy_token_set": True, "hint": _hint(token)})


def _hint(secret: str) -> str:
    """Enough to recognise a token, never enough to use it."""
    return f"…{secret[-4:]}" if len(secret) >= 12 else "…"


ROUTES = [
    Route("/api/me/git-token", put_git_token, methods=["PUT"]),
    Route("/api/me/git-token", delete_git_token, methods=["DELETE"]),
    Route("/api/projects/{name}/deploy-token", put_deploy_token, methods=["PUT"]),
]
