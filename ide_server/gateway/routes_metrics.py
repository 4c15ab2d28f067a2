"""``GET /metrics``: the Prometheus text format, for a scraper's bearer token or an admin."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http import ApiError, services
from .logins import COOKIE
from .metrics import CONTENT_TYPE

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="metrics"'}


async def metrics(request: Request) -> Response:
    svc = services(request)
    await _authorize(request)
    body = await svc.metrics.render(svc.db)
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


async def _authorize(request: Request) -> None:
    """The configured token (``IDE_METRICS_TOKEN``, compared in constant time), or the
    login of an admin; 401 without either, 403 for a login that is not an admin's."""
    svc = services(request)
    expected = svc.config.metrics_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        if expected and hmac.compare_digest(given.encode(), expected.encode()):
            return
        raise ApiError(401, "bad_token", "The metrics token is not valid.", _CHALLENGE)
    user = await svc.logins.resolve(request.cookies.get(COOKIE))
    if user is None:
        raise ApiError(
            401,
            "not_authenticated",
            "Send the metrics token as a bearer token, or log in.",
            _CHALLENGE,
        )
    if not user.is_admin:
        raise ApiError(403, "forbidden", "Only admins may read the metrics.")


ROUTES = [Route("/metrics", metrics)]
