"""Single sign-on routes: begin a login at the provider, come back from it, and the
provider's back-channel logout (see docs/sso.md and docs/api.md)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import audit
from .http import ApiError, services
from .logins import COOKIE
from .oidc import InvalidToken, ProviderError, ProviderRefused, ProviderUnavailable
from .sso import SsoRefused

BROWSER_COOKIE = "ide_oidc"  # binds a login in progress to the browser that began it
_COOKIE_PATH = "/api/auth/oidc"
_PENDING_MAX_AGE = timedelta(minutes=10)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def local_path(value: str | None) -> str:
    """``value`` if it is a path on this server, else ``/``: never another site."""
    if (
        not value
        or len(value) > 2048
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or any(ord(c) < 0x20 for c in value)
    ):
        return "/"
    return value


def _sso(request: Request) -> Any:
    svc = services(request)
    if svc.sso is None:
        raise ApiError(404, "sso_disabled", "Single sign-on is not configured on this server.")
    return svc.sso


async def providers(request: Request) -> Response:
    svc = services(request)
    mode = svc.config.auth_mode
    offered = []
    if svc.sso is not None:
        offered.append(
            {
                "id": "oidc",
                "name": svc.config.oidc_provider_name,
                "login_url": "/api/auth/oidc/login",
            }
        )
    return JSONResponse({"mode": mode, "local": mode != "oidc", "providers": offered})


async def oidc_login(request: Request) -> Response:
    sso = _sso(request)
    svc = services(request)
    try:
        begun = await sso.provider.authorization()
    except ProviderUnavailable:
        raise ApiError(
            503, "provider_unavailable", "The identity provider cannot be reached; try again."
        ) from None
    browser = secrets.token_urlsafe(32)
    await svc.db.execute(
        "INSERT INTO oidc_pending (state_hash, browser_hash, nonce, code_verifier, next_path)"
        " VALUES (%s, %s, %s, %s, %s)",
        (
            _digest(begun.state),
            _digest(browser),
            begun.nonce,
            begun.code_verifier,
            local_path(request.query_params.get("next")),
        ),
    )
    response = RedirectResponse(begun.url, status_code=302)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=int(_PENDING_MAX_AGE.total_seconds()),
        httponly=True,
        # Lax: the provider sends the browser back with a top-level GET, which carries it.
        samesite="lax",
        secure=svc.config.tls,
        path=_COOKIE_PATH,
    )
    return response


async def _take_pending(request: Request) -> dict[str, Any]:
    """The login this callback finishes, used up; refused unless this browser began it."""
    state = request.query_params.get("state", "")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not state or len(state) > 256 or not browser:
        raise ApiError(400, "bad_state", "This sign-in was not started here; start it again.")
    row = await services(request).db.fetchone(
        "DELETE FROM oidc_pending WHERE state_hash = %s"
        " RETURNING browser_hash, nonce, code_verifier, next_path, created_at",
        (_digest(state),),
    )
    if (
        row is None
        or not secrets.compare_digest(bytes(row["browser_hash"]), _digest(browser))
        or datetime.now(UTC) - row["created_at"] > _PENDING_MAX_AGE
    ):
        raise ApiError(400, "bad_state", "This sign-in was not started here; start it again.")
    return row


async def oidc_callback(request: Request) -> Response:
    try:
        return await _finish_sign_in(request)
    except ApiError as exc:
        # A person in a browser gets the login page saying what went wrong (by code only:
        # no text from the URL reaches the page); a script gets the JSON error.
        if request.headers.get("sec-fetch-mode") != "navigate":
            raise
        await audit.record(services(request).db, None, "login.sso_failed", code=exc.code)
        response = RedirectResponse(f"/?sso_error={exc.code}", status_code=303)
        response.delete_cookie(BROWSER_COOKIE, path=_COOKIE_PATH)
        return response


async def _finish_sign_in(request: Request) -> Response:
    sso = _sso(request)
    svc = services(request)
    pending = await _take_pending(request)
    if request.query_params.get("error"):
        raise ApiError(
            403, "sso_refused", f"The identity provider said: {request.query_params['error']}."
        )
    code = request.query_params.get("code", "")
    if not code or len(code) > 4096:
        raise ApiError(400, "bad_request", "The provider sent no authorization code.")
    try:
        tokens = await sso.provider.exchange_code(code, pending["code_verifier"])
        claims = await sso.provider.verify_id_token(tokens.id_token, nonce=pending["nonce"])
        info = await sso.provider.userinfo(tokens.access_token) if tokens.access_token else {}
    except InvalidToken as exc:
        svc.metrics.login("failure", "sso")
        await audit.record(svc.db, None, "login.sso_invalid_token", reason=str(exc))
        raise ApiError(401, "invalid_token", f"The sign-in was refused: {exc}.") from None
    except ProviderRefused as exc:
        svc.metrics.login("failure", "sso")
        raise ApiError(401, "code_refused", f"The provider refused the sign-in: {exc}.") from None
    except ProviderUnavailable:
        raise ApiError(
            503, "provider_unavailable", "The identity provider cannot be reached; try again."
        ) from None
    except ProviderError as exc:
        raise ApiError(502, "provider_error", str(exc)) from None
    # Userinfo adds claims (email, groups) only when it speaks of the same subject.
    if info.get("sub") == claims["sub"]:
        claims = {**info, **claims}
    try:
        user = await sso.identities.sign_in(sso.provider.settings.issuer, claims)
    except SsoRefused as exc:
        svc.metrics.login("failure", "sso")
        await audit.record(svc.db, None, "login.sso_refused", sub=claims["sub"], reason=str(exc))
        raise ApiError(403, "sso_refused", str(exc)) from None
    svc.metrics.login("success", "sso")
    await audit.record(svc.db, user.username, "login.sso")
    token = await svc.logins.replace(request.cookies.get(COOKIE), user)
    sid = claims.get("sid")
    await sso.logins.remember(token, user.id, sid if isinstance(sid, str) else None, tokens)
    response = RedirectResponse(pending["next_path"], status_code=303)
    response.headers["Cache-Control"] = "no-store"
    svc.logins.set_cookie(response, token, secure=svc.config.tls)
    response.delete_cookie(BROWSER_COOKIE, path=_COOKIE_PATH)
    return response


def _logout_error(description: str) -> Response:
    return JSONResponse(
        {"error": "invalid_request", "error_description": description},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )


async def backchannel_logout(request: Request) -> Response:
    """OpenID Back-Channel Logout: the provider posts a signed ``logout_token``."""
    sso = _sso(request)
    svc = services(request)
    body = await request.body()
    if len(body) > 64 * 1024:
        return _logout_error("the request is too large")
    # application/x-www-form-urlencoded, read here (one field; no multipart parser needed).
    try:
        form = parse_qs(body.decode("ascii"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return _logout_error("the request is not a form")
    values = form.get("logout_token") or []
    token = values[0] if len(values) == 1 else None
    if not token:
        return _logout_error("logout_token is missing")
    try:
        claims = await sso.provider.verify_logout_token(token)
    except InvalidToken as exc:
        return _logout_error(str(exc))
    except ProviderError:
        return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
    issuer = sso.provider.settings.issuer
    expires = max(float(claims.get("exp") or 0), float(claims["iat"]) + 3600)
    fresh = await svc.db.execute(
        "INSERT INTO oidc_seen_logout_tokens (issuer, jti, expires_at)"
        " VALUES (%s, %s, to_timestamp(%s)) ON CONFLICT DO NOTHING",
        (issuer, claims["jti"], expires),
    )
    if not fresh:
        return _logout_error("this logout token was used already")
    ended = await _end_logins(request, issuer, claims)
    await audit.record(
        svc.db, None, "logout.backchannel", sub=claims.get("sub"), logins_ended=ended
    )
    return Response(status_code=200, headers={"Cache-Control": "no-store"})


async def _end_logins(request: Request, issuer: str, claims: dict[str, Any]) -> int:
    """The logins the token names (by sid, else every login of the subject) end; their
    sockets close at the next revalidation on every replica."""
    db = services(request).db
    sub, sid = claims.get("sub"), claims.get("sid")
    user_filter = (
        " AND o.user_id = (SELECT user_id FROM user_identities WHERE issuer = %(iss)s"
        " AND subject = %(sub)s)"
    )
    if sid:
        where = "o.sid = %(sid)s" + (user_filter if sub else "")
    else:
        where = "true" + user_filter
    return await db.execute(
        "DELETE FROM login_sessions l USING oidc_logins o WHERE o.token_hash = l.token_hash"
        " AND " + where,
        {"iss": issuer, "sub": str(sub or ""), "sid": sid},
    )


ROUTES = [
    Route("/api/auth/providers", providers, methods=["GET"]),
    Route("/api/auth/oidc/login", oidc_login, methods=["GET"]),
    Route("/api/auth/oidc/callback", oidc_callback, methods=["GET"]),
    Route("/api/auth/oidc/backchannel-logout", backchannel_logout, methods=["POST"]),
]
