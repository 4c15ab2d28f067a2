"""The gateway's ASGI application: REST API, session proxy and the built frontend."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Config
from ..db import DatabaseUnavailable
from ..secrets import SecretError
from .http import ApiError, error_response
from .middleware import UNAVAILABLE_MESSAGE, AuthMiddleware, OriginMiddleware, answer_unavailable
from .proxy import SessionProxy
from .routes import ROUTES
from .routes_credentials import ROUTES as CREDENTIAL_ROUTES
from .services import Services

FRONTEND_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"


class SpaFiles(StaticFiles):
    """The built frontend; unknown paths get index.html (the app routes by hash)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return FileResponse(Path(str(self.directory)) / "index.html")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _secret_unreadable(request: Request, exc: Exception) -> Response:
    return error_response(
        500,
        "secret_unreadable",
        "A stored credential could not be decrypted: the master key may have changed "
        "(IDE_SECRET_KEY). Set the credential again, or ask an admin to restore the key.",
    )


async def _db_unavailable(request: Request, exc: Exception) -> Response:
    return error_response(503, "unavailable", UNAVAILABLE_MESSAGE, {"Retry-After": "5"})


class _LazyAuth:
    """AuthMiddleware needs the login store, which exists only once the lifespan ran."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        await AuthMiddleware(self.app, self.services.logins)(scope, receive, send)


def create_app(config: Config, services: Services | None = None) -> ASGIApp:
    services = services or Services(config)
    proxy = SessionProxy(services)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    routes: list[BaseRoute] = [*ROUTES, *CREDENTIAL_ROUTES]
    if FRONTEND_DIST.is_dir():
        routes.append(Mount("/", app=SpaFiles(directory=FRONTEND_DIST, html=True)))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            DatabaseUnavailable: _db_unavailable,
            SecretError: _secret_unreadable,
        },
    )
    app.state.services = services
    return OriginMiddleware(_LazyAuth(_SessionsFirst(app, proxy), services), config.allowed_origins)


class _SessionsFirst:
    """Sends ``/sessions/...`` to the proxy untouched (full path, raw bytes), the rest on."""

    def __init__(self, app: ASGIApp, proxy: SessionProxy) -> None:
        self.app = app
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith("/sessions/"):
            try:
                await self.proxy(scope, receive, send)
            except DatabaseUnavailable:
                await answer_unavailable(scope, receive, send)
            return
        await self.app(scope, receive, send)
