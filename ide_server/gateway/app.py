"""The gateway's ASGI application: REST API, session proxy and the built frontend.

Composed the Starlette way: the middleware list runs outermost first (the Origin check
before anything reads a cookie), the lifespan starts the services and hands them to every
request as lifespan state (``scope["state"]``), and ``/sessions/...`` is a mount of the
session proxy, which sees the full raw path.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ..config import Config
from ..db import DatabaseUnavailable
from ..secrets import SecretError
from .hosts import HostMiddleware, allowed_hosts
from .http import ApiError, ErrorAnswer, GatewayState
from .middleware import UNAVAILABLE, AuthMiddleware, OriginMiddleware
from .proxy import SessionProxy
from .routes import ROUTES
from .routes_admin import ROUTES as ADMIN_ROUTES
from .routes_credentials import ROUTES as CREDENTIAL_ROUTES
from .routes_git_provider import ROUTES as GIT_PROVIDER_ROUTES
from .routes_invocations import ROUTES as INVOCATION_ROUTES
from .routes_manage import ROUTES as MANAGE_ROUTES
from .routes_metrics import ROUTES as METRICS_ROUTES
from .routes_oidc import ROUTES as OIDC_ROUTES
from .routes_shares import ROUTES as SHARE_ROUTES
from .routes_warehouse import ROUTES as WAREHOUSE_ROUTES
from .services import Services
from .tls import HstsMiddleware

FRONTEND_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"


class SpaFiles(StaticFiles):
    """The built frontend; unknown paths get index.html (the app routes by hash), except
    under ``/api/``: a script or the frontend asking for an endpoint that does not exist
    gets a JSON 404, not a page that looks like a successful answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            if path == "api" or path.startswith("api/"):
                return JSONResponse(
                    {"error": {"code": "not_found", "message": "No such API endpoint."}},
                    status_code=404,
                )
            return FileResponse(Path(str(self.directory)) / "index.html")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return ErrorAnswer(exc.status, exc.code, exc.message, close_code=1008, headers=exc.headers)


async def _secret_unreadable(request: Request, exc: Exception) -> Response:
    return ErrorAnswer(
        500,
        "secret_unreadable",
        "A stored credential could not be decrypted: the master key may have changed "
        "(IDE_SECRET_KEY). Set the credential again, or ask an admin to restore the key.",
        close_code=1011,
    )


async def _db_unavailable(request: Request, exc: Exception) -> Response:
    return UNAVAILABLE


# Handlers get a Request over HTTP and a WebSocket on the proxy's sockets; an ErrorAnswer
# speaks to both.
def create_app(config: Config, services: Services | None = None) -> Starlette:
    """The gateway; constructing it does no I/O (the lifespan starts ``services``)."""
    services = services or Services(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[GatewayState]:
        await services.start()
        try:
            yield {"services": services, "logins": services.logins}
        finally:
            await services.stop()

    routes: list[BaseRoute] = [
        Mount("/sessions", app=SessionProxy(services)),
        *ROUTES,
        *CREDENTIAL_ROUTES,
        *SHARE_ROUTES,
        *WAREHOUSE_ROUTES,
        *GIT_PROVIDER_ROUTES,
        *ADMIN_ROUTES,
        *INVOCATION_ROUTES,
        *OIDC_ROUTES,
        *MANAGE_ROUTES,
        *METRICS_ROUTES,
    ]
    if FRONTEND_DIST.is_dir():
        routes.append(Mount("/", app=SpaFiles(directory=FRONTEND_DIST, html=True)))
    return Starlette(
        routes=routes,
        middleware=[
            *([Middleware(HstsMiddleware)] if config.tls else []),
            Middleware(HostMiddleware, hosts=allowed_hosts(config)),
            Middleware(OriginMiddleware, allowed=config.allowed_origins),
            Middleware(AuthMiddleware),
        ],
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            DatabaseUnavailable: _db_unavailable,
            SecretError: _secret_unreadable,
        },
    )
