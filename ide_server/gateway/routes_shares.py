"""The REST API of pairing: shares of a session, invite links, what is shared with me
(docs/api.md, "Pairing"). The owner shares; guests cannot re-share; anyone else gets the
same 404 as for any session that is not theirs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from session_manager.store import SessionRow

from . import audit
from .accounts import User
from .http import ApiError, current_user, json_body, require_str, services
from .routes import session_and_access
from .shares import SessionKey, ShareError, check_mode


async def _owned(request: Request, user: User, *, admin_may: bool = False) -> SessionRow:
    """The session in the path if the caller owns it (or, for reading and revoking, is an
    admin); a guest gets 403, anyone else 404."""
    row, access = await session_and_access(request, user)
    if row.user_id != user.id and not (admin_may and access.role == "admin" and not access.guest):
        raise ApiError(403, "not_owner", "Only the session's owner can share it.")
    return row


def _key(row: SessionRow) -> SessionKey:
    return SessionKey(row.user_id, row.project_id)


def _share_error(exc: ShareError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


async def _recheck_sockets(request: Request) -> None:
    """This replica's sockets see a revoked or lowered share now; the others at their next
    pass (revocation.py)."""
    sockets = services(request).sockets
    if sockets is not None:
        await sockets.revalidate()


async def create_share(request: Request) -> Response:
    user = current_user(request)
    row = await _owned(request, user)
    body = await json_body(request)
    guest = require_str(body, "user", max_length=64)
    svc = services(request)
    try:
        share = await svc.shares.share(_key(row), row.id, guest, check_mode(body.get("mode")))
    except ShareError as exc:
        raise _share_error(exc) from None
    await audit.record(
        svc.db, user.username, "share.create", project=row.project, guest=guest, mode=share["mode"]
    )
    await _recheck_sockets(request)  # sharing again may lower the mode
    return JSONResponse(share, status_code=201)


async def list_shares(request: Request) -> Response:
    row = await _owned(request, current_user(request), admin_may=True)
    shares = await services(request).shares.of_session(_key(row), row.id)
    return JSONResponse({"shares": shares})


async def delete_share(request: Request) -> Response:
    user = current_user(request)
    row = await _owned(request, user, admin_may=True)
    guest = request.path_params["user"]
    svc = services(request)
    if not await svc.shares.revoke(_key(row), guest):
        raise ApiError(404, "share_not_found", f"The session is not shared with {guest!r}.")
    await audit.record(svc.db, user.username, "share.revoke", project=row.project, guest=guest)
    await _recheck_sockets(request)
    return Response(status_code=204)


async def shared_with_me(request: Request) -> Response:
    user = current_user(request)
    return JSONResponse({"sessions": await services(request).shares.shared_with(user.id)})


async def create_invite(request: Request) -> Response:
    user = current_user(request)
    row = await _owned(request, user)
    body = await json_body(request)
    expires_in = body.get("expires_in")
    if expires_in is not None and (not isinstance(expires_in, int) or isinstance(expires_in, bool)):
        raise ApiError(400, "bad_request", "'expires_in' must be a number of seconds.")
    svc = services(request)
    try:
        code, expires_at = await svc.shares.invite(
            _key(row), check_mode(body.get("mode")), expires_in
        )
    except ShareError as exc:
        raise _share_error(exc) from None
    await audit.record(svc.db, user.username, "invite.create", project=row.project)
    url = f"{str(request.base_url).rstrip('/')}/#/invite/{code}"
    return JSONResponse(
        {"url": url, "code": code, "expires_at": expires_at.isoformat()}, status_code=201
    )


async def accept_invite(request: Request) -> Response:
    user = current_user(request)
    svc = services(request)
    try:
        key, mode = await svc.shares.accept(request.path_params["code"], user.id)
    except ShareError as exc:
        raise _share_error(exc) from None
    session_id = await svc.shares.latest_session(key)
    await audit.record(svc.db, user.username, "invite.accept", session=session_id)
    shared = [s for s in await svc.shares.shared_with(user.id) if s["session_id"] == session_id]
    answer = shared[0] if shared else {"session_id": session_id, "mode": mode}
    return JSONResponse({**answer, "share_mode": mode})


async def project_members(request: Request) -> Response:
    """Who the session's project could be shared with: for the owner's Share picker."""
    user = current_user(request)
    row = await _owned(request, user)
    members = await services(request).shares.members(row.project_id)
    return JSONResponse({"members": [m for m in members if m["username"] != user.username]})


ROUTES = [
    Route("/api/sessions/{session_id}/members", project_members, methods=["GET"]),
    Route("/api/sessions/{session_id}/shares", create_share, methods=["POST"]),
    Route("/api/sessions/{session_id}/shares", list_shares, methods=["GET"]),
    Route("/api/sessions/{session_id}/shares/{user}", delete_share, methods=["DELETE"]),
    Route("/api/sessions/{session_id}/invites", create_invite, methods=["POST"]),
    Route("/api/invites/{code}/accept", accept_invite, methods=["POST"]),
    Route("/api/shared-with-me", shared_with_me, methods=["GET"]),
]
