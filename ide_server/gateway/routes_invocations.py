"""The history of dbt invocations: the index, the debug log and the artifacts (docs/api.md).

A user sees the invocations of their own sessions; admins see everyone's. Any other
invocation is answered 404, as one that does not exist. Stored objects come from the
object store; what is not stored yet (the invocation runs, or the store was down) is read
through the session's pod while it is ready.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from session_manager.states import State

from .accounts import User
from .http import ApiError, current_user, services
from .invocations import InvocationRow
from .objectstore import ObjectMissing, StoreUnavailable
from .pod_spool import PodSpool, PodUnreachable

ARTIFACTS = ("run_results.json", "manifest.json", "catalog.json")
LOG = "dbt.log"
_POLL_SECONDS = 0.5
_NOT_FOUND = ApiError(404, "invocation_not_found", "No such invocation.")


def _limit(request: Request) -> int:
    try:
        limit = int(request.query_params.get("limit", "50"))
    except ValueError:
        raise ApiError(400, "bad_limit", "limit must be a number from 1 to 500.") from None
    if not 1 <= limit <= 500:
        raise ApiError(400, "bad_limit", "limit must be a number from 1 to 500.")
    return limit


async def list_invocations(request: Request) -> Response:
    user = current_user(request)
    svc = services(request)
    name = request.path_params["name"]
    project = await svc.accounts.project_by_name(name) if len(name) <= 64 else None
    if project is None or (
        not user.is_admin and await svc.accounts.role_of(user, project.id) is None
    ):
        raise ApiError(404, "project_not_found", f"No project named {name!r} is open to you.")
    rows = await svc.invocations.list(
        project.id, None if user.is_admin else user.id, _limit(request)
    )
    return JSONResponse({"invocations": [r.public() for r in rows]})


async def _invocation(request: Request, user: User) -> InvocationRow:
    invocation_id = request.path_params["invocation_id"]
    if len(invocation_id) > 64:
        raise _NOT_FOUND
    row = await services(request).invocations.get(invocation_id, None if user.is_admin else user.id)
    if row is None:
        raise _NOT_FOUND
    return row


async def get_invocation(request: Request) -> Response:
    row = await _invocation(request, current_user(request))
    return JSONResponse(row.public())


async def _stored(request: Request, row: InvocationRow, name: str) -> bytes | None:
    key = row.object_keys.get(name)
    if key is None:
        return None
    try:
        return await asyncio.to_thread(services(request).objects.get, key)  # type: ignore[union-attr]
    except ObjectMissing:
        return None
    except StoreUnavailable:
        raise ApiError(
            503, "store_unavailable", "The object store does not answer; try again shortly."
        ) from None


async def _pod_spool(request: Request, row: InvocationRow) -> PodSpool | None:
    """The spool of the invocation's session while its pod is ready."""
    svc = services(request)
    session = await svc.store.get(row.session_id) if row.session_id else None
    if session is None or session.state != State.READY or not session.endpoint:
        return None
    try:
        return PodSpool(svc.pods, session, svc.manager.pod_token(session))
    except PodUnreachable:
        return None


async def _from_pod(
    request: Request, row: InvocationRow, name: str, offset: int = 0
) -> bytes | None:
    spool = await _pod_spool(request, row)
    if spool is None:
        return None
    try:
        return await spool.read(row.invocation_id, name, offset)
    except PodUnreachable:
        return None


async def get_log(request: Request) -> Response:
    user = current_user(request)
    row = await _invocation(request, user)
    svc = services(request)
    if row.status != "running":
        data = await _stored(request, row, LOG) or await _from_pod(request, row, LOG)
        if data is None:
            raise ApiError(404, "log_not_found", "This invocation's log is not stored yet.")
        return Response(data, media_type="text/plain; charset=utf-8", headers=_download(row, LOG))

    async def follow() -> AsyncIterator[bytes]:
        """The log as it grows, read through the pod; ends when the invocation ends."""
        offset = 0
        current = row
        while True:
            final = current.status != "running"
            if final and LOG in current.object_keys:
                data = await _stored(request, current, LOG) or b""
                if len(data) > offset:
                    yield data[offset:]
                return
            chunk = await _from_pod(request, current, LOG, offset)
            if chunk:
                yield chunk
                offset += len(chunk)
                continue
            if final or chunk is None and await _pod_spool(request, current) is None:
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(_POLL_SECONDS)
            current = await svc.invocations.get(row.invocation_id, row.user_id) or current

    return StreamingResponse(
        follow(),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def get_artifact(request: Request) -> Response:
    user = current_user(request)
    row = await _invocation(request, user)
    name = request.path_params["name"]
    if name not in ARTIFACTS:
        raise ApiError(404, "artifact_not_found", f"Artifacts are {', '.join(ARTIFACTS)}.")
    data = await _stored(request, row, name) or await _from_pod(request, row, name)
    if data is None:
        raise ApiError(404, "artifact_not_found", f"This invocation has no {name} stored.")
    return Response(data, media_type="application/json", headers=_download(row, name))


def _download(row: InvocationRow, name: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{row.invocation_id}-{name}"',
        "Cache-Control": "no-store",
    }


ROUTES = [
    Route("/api/projects/{name}/invocations", list_invocations),
    Route("/api/invocations/{invocation_id}", get_invocation),
    Route("/api/invocations/{invocation_id}/log", get_log),
    Route("/api/invocations/{invocation_id}/artifacts/{name}", get_artifact),
]
