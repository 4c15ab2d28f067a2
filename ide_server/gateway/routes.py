"""The REST API: login, the caller, projects and sessions (see docs/api.md)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from session_manager.states import State
from session_manager.store import LimitExceeded, SessionRow

from . import audit
from .access import Access, session_access
from .accounts import User
from .admin_projects import token_hint
from .break_glass import refuse_local_login, refuse_sso_user
from .credentials import GIT_TOKEN
from .http import ApiError, current_user, json_body, require_str, services
from .logins import COOKIE
from .passwords import verify_password_async
from .sso_service import end_session_url, session_start_allowed
from .throttle import Throttled, address_key

if TYPE_CHECKING:
    from .services import Services

_BAD_LOGIN = "Invalid username or password."


def _bad_login(svc: Services) -> str:
    if svc.config.auth_mode == "local":
        return _BAD_LOGIN
    name = svc.config.oidc_provider_name
    return f"{_BAD_LOGIN} If your account signs in with {name}, use “Sign in with {name}”."


async def login(request: Request) -> Response:
    svc = services(request)
    body = await json_body(request)
    username = require_str(body, "username", max_length=64)
    password = require_str(body, "password", max_length=1024)
    address = address_key(request.client.host if request.client else None)
    try:
        # Counted before the password is evaluated: parallel guesses cannot overtake the
        # count (see throttle.py).
        await svc.throttle.reserve(address, username)
    except Throttled as exc:
        svc.metrics.login("throttled")
        raise ApiError(
            429, "too_many_attempts", str(exc), {"Retry-After": str(exc.retry_after)}
        ) from None
    user, hashed = await svc.accounts.password_hash(username)
    if not await verify_password_async(password, hashed) or user is None:
        # The same answer for an unknown name, a wrong password and an SSO user (whose
        # password is cleared at each sign-in): the answer must not tell which names exist.
        svc.metrics.login("failure")
        await audit.record(svc.db, username, "login.failed")
        raise ApiError(401, "invalid_credentials", _bad_login(svc))
    await refuse_sso_user(svc, user)  # a password set since: still not a way in
    await refuse_local_login(svc, user)
    await svc.throttle.succeeded(address, username)
    if user.disabled:
        svc.metrics.login("disabled")
        await audit.record(svc.db, username, "login.disabled")
        raise ApiError(403, "account_disabled", "This account is disabled; ask an admin.")
    svc.metrics.login("success")
    await audit.record(svc.db, username, "login")
    token = await svc.logins.replace(request.cookies.get(COOKIE), user)
    response = JSONResponse({"user": user.public()})
    svc.logins.set_cookie(response, token, secure=svc.config.tls)
    return response


async def logout(request: Request) -> Response:
    svc = services(request)
    token = request.cookies.get(COOKIE)
    # An SSO login also ends at the provider: the browser is sent to its end-session page.
    end_session = await end_session_url(svc, token) if token else None
    await svc.logins.delete(token)
    response: Response = (
        JSONResponse({"end_session_url": end_session}) if end_session else Response(status_code=204)
    )
    response.delete_cookie(COOKIE, path="/")
    return response


async def me(request: Request) -> Response:
    user = current_user(request)
    credentials = services(request).credentials
    git_token = await credentials.get(GIT_TOKEN, user_id=user.id)
    identity = await services(request).db.fetchone(
        "SELECT 1 AS one FROM user_identities WHERE user_id = %s", (user.id,)
    )
    return JSONResponse(
        {
            **user.public(),
            "sso": identity is not None,
            "git_token_set": git_token is not None,
            "git_token_hint": token_hint(git_token) if git_token is not None else None,
        }
    )


async def list_projects(request: Request) -> Response:
    user = current_user(request)
    projects = await services(request).accounts.projects_of(user)
    return JSONResponse([p.public(role) for p, role in projects])


async def session_and_access(request: Request, user: User) -> tuple[SessionRow, Access]:
    """The session named in the path and the caller's access to it (owner, admin or a
    guest it is shared with); 404 for anyone else (no leak)."""
    session_id = request.path_params["session_id"]
    svc = services(request)
    row = await svc.store.get(session_id) if len(session_id) <= 64 else None
    access = await session_access(svc.db, user.id, row.id) if row else None
    if row is None or access is None:
        raise ApiError(404, "session_not_found", "No such session.")
    return row, access


async def session_for_caller(request: Request, user: User) -> SessionRow:
    return (await session_and_access(request, user))[0]


def session_public(row: SessionRow, access: Access, user: User) -> dict[str, Any]:
    """The session object, with the caller's place in it: owner or guest, and the mode."""
    owner = row.user_id == user.id
    mode = access.guest_mode or ("view" if access.role == "read-only" else "full")
    return {
        **row.public(),
        "owner": row.username,
        "role": "owner" if owner else "guest",
        "mode": mode,
    }


async def create_session(request: Request) -> Response:
    user = current_user(request)
    svc = services(request)
    body = await json_body(request)
    name = require_str(body, "project", max_length=64)
    project = await svc.accounts.project_by_name(name)
    role = await svc.accounts.role_of(user, project.id) if project else None
    if project is None or role is None:
        raise ApiError(404, "project_not_found", f"No project named {name!r} is open to you.")
    if not await session_start_allowed(svc, request.cookies.get(COOKIE)):
        raise ApiError(401, "not_authenticated", "Your sign-in has ended; sign in again.")
    try:
        row, created = await svc.manager.open_session(
            user.id, user.username, project.id, project.name, lambda: svc.pod_env(user, project)
        )
    except LimitExceeded as exc:
        raise ApiError(
            429, "limit_exceeded", str(exc), {"Retry-After": str(exc.retry_after)}
        ) from None
    if created:
        await audit.record(
            svc.db, user.username, "session.start", session=row.id, project=project.name
        )
    return JSONResponse(row.public(), status_code=201 if created else 200)


async def list_sessions(request: Request) -> Response:
    user = current_user(request)
    rows = await services(request).store.list(
        user_id=user.id, states=(State.PENDING, State.STARTING, State.READY, State.STOPPING)
    )
    return JSONResponse([r.public() for r in rows])


async def get_session(request: Request) -> Response:
    user = current_user(request)
    row, access = await session_and_access(request, user)
    return JSONResponse(session_public(row, access, user))


async def delete_session(request: Request) -> Response:
    user = current_user(request)
    row, access = await session_and_access(request, user)
    if access.guest:
        raise ApiError(403, "not_owner", "Only the session's owner can stop it.")
    await audit.record(
        services(request).db, user.username, "session.stop", session=row.id, owner=row.username
    )
    final = await services(request).manager.stop_session(
        row.id, reason=f"stopped by {user.username}"
    )
    return JSONResponse((final or row).public())


_FINAL = (State.READY, State.FAILED, State.STOPPED)
_EVENTS_POLL = 0.05  # seconds; one primary-key read per tick
_RECHECK_EVERY = 1.0  # seconds: access is checked again this often during a start's stream


async def session_events(request: Request) -> Response:
    user = current_user(request)
    row = await session_for_caller(request, user)
    svc = services(request)
    token = request.cookies.get(COOKIE)

    async def still_allowed() -> bool:
        """The login is alive and still reaches the session (a share can be revoked, a
        user disabled, while a start is followed)."""
        now = await svc.logins.resolve(token) if token else None
        return now is not None and await session_access(svc.db, now.id, row.id) is not None

    async def stream() -> AsyncIterator[str]:
        last: dict[str, Any] | None = None
        current: SessionRow | None = row
        recheck_at = time.monotonic() + _RECHECK_EVERY
        with svc.store.changes.watch(row.id) as changed:
            while current is not None:
                public = current.public()
                if public != last:
                    yield f"event: session\ndata: {json.dumps(public)}\n\n"
                    last = public
                if current.state in _FINAL or await request.is_disconnected():
                    return
                # Rows are the source of truth, so any replica can serve the stream; a
                # change made by this replica wakes it at once, one made by another is
                # seen at the next poll. Polled often: the browser waits on this stream
                # to open the IDE, and a stream lives only while a start does.
                await svc.store.changes.wait(changed, _EVENTS_POLL)
                if time.monotonic() >= recheck_at:
                    if not await still_allowed():
                        yield 'event: ended\ndata: {"reason": "access"}\n\n'
                        return
                    recheck_at = time.monotonic() + _RECHECK_EVERY
                current = await svc.store.get(row.id)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def admin_sessions(request: Request) -> Response:
    user = current_user(request)
    if not user.is_admin:
        raise ApiError(403, "forbidden", "Only admins may list every session.")
    rows = await services(request).store.list()
    return JSONResponse(
        [
            {
                **r.public(),
                "backend": r.backend,
                "age_seconds": round(time.time() - r.created_at.timestamp()),
            }
            for r in rows
            if r.state != State.STOPPED or _recent(r)
        ]
    )


def _recent(row: SessionRow) -> bool:
    """Stopped sessions stay in the admin view for a day."""
    return time.time() - row.updated_at.timestamp() < 86400


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


ROUTES = [
    Route("/healthz", healthz),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/me", me),
    Route("/api/projects", list_projects),
    Route("/api/sessions", list_sessions, methods=["GET"]),
    Route("/api/sessions", create_session, methods=["POST"]),
    Route("/api/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/api/sessions/{session_id}", delete_session, methods=["DELETE"]),
    Route("/api/sessions/{session_id}/events", session_events),
    Route("/api/admin/sessions", admin_sessions),
]
