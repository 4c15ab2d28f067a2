"""ASGI layers of the gateway: who is calling, and from which origin.

Each is a page-long ``(scope, receive, send)`` layer, listed in ``app.create_app``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from ..db import DatabaseUnavailable
from .http import ErrorAnswer, error_response
from .logins import COOKIE

_NEEDS_USER = ("/api/", "/sessions/")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Posted by the identity provider, server to server: no browser, no cookie, no Origin; the
# signed logout token is its proof (routes_oidc.py).
_NOT_FROM_BROWSERS = frozenset({"/api/auth/oidc/backchannel-logout"})


def cookie_value(headers: Headers, name: str) -> str | None:
    """The named cookie; lenient like browsers, so one odd cookie does not hide the rest."""
    raw = headers.get("cookie")
    return cookie_parser(raw).get(name) if raw else None


class AuthMiddleware:
    """Puts the logged-in user (or None) in ``scope["user"]``; never rejects by itself.

    The login store comes from the lifespan state (``scope["state"]["logins"]``): it exists
    only once the lifespan connected the database.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["user"] = None
        # Only the API and the sessions need to know who calls: the frontend's static files
        # do not cost a database lookup each.
        if scope["type"] in ("http", "websocket") and scope["path"].startswith(_NEEDS_USER):
            token = cookie_value(Headers(scope=scope), COOKIE)
            try:
                logins = scope["state"]["logins"]
                scope["user"] = await logins.resolve(token) if token else None
            except DatabaseUnavailable:
                await UNAVAILABLE(scope, receive, send)
                return
        await self.app(scope, receive, send)


UNAVAILABLE_MESSAGE = "The metadata database is not reachable; try again shortly."
# 503 with Retry-After over HTTP; close code 1013 (try again later) on a WebSocket.
UNAVAILABLE = ErrorAnswer(
    503,
    "unavailable",
    UNAVAILABLE_MESSAGE,
    close_code=1013,
    headers={"Retry-After": "2"},
    accept_then_close=True,
)


def request_origin(scope: Scope, headers: Headers) -> str:
    """The origin this request was addressed to (what a same-origin page would send)."""
    scheme = scope.get("scheme", "http")
    if scheme in ("ws", "wss"):
        scheme = "https" if scheme == "wss" else "http"
    return f"{scheme}://{headers.get('host', '')}"


class OriginMiddleware:
    """Refuses WebSocket upgrades whose Origin is not allowed (or absent), and unsafe HTTP
    requests that do not come from an allowed origin, before anything else runs."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    def _allowed(self, scope: Scope, headers: Headers, origin: str) -> bool:
        if self.allowed:
            return origin in self.allowed
        return origin == request_origin(scope, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is None or not self._allowed(scope, headers, origin):
                await send({"type": "websocket.close", "code": 1008})
                return
        elif (
            scope["type"] == "http"
            and scope["method"] in _UNSAFE
            and scope["path"] not in _NOT_FROM_BROWSERS
        ):
            headers = Headers(scope=scope)
            if not self._same_origin_write(scope, headers):
                await error_response(403, "bad_origin", "Cross-origin request refused.")(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)

    def _same_origin_write(self, scope: Scope, headers: Headers) -> bool:
        """A write must say where it comes from: an allowed ``Origin``, or the browser's
        ``Sec-Fetch-Site: same-origin``. Cross-site, same-site (another subdomain) and
        ``no-cors`` requests are refused even without an Origin, so SameSite=Lax is not the
        only thing between a foreign page and the API."""
        origin = headers.get("origin")
        site = headers.get("sec-fetch-site")
        if headers.get("sec-fetch-mode") == "no-cors":
            return False
        if site is not None and site != "same-origin":
            return False
        if origin is not None:
            return self._allowed(scope, headers, origin)
        return site == "same-origin"
