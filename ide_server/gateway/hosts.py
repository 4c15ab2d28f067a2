"""The ``Host`` header must name this server: a request for another name is refused.

A page on a name the attacker controls that resolves to the gateway (DNS rebinding) would
otherwise be "same-origin" with itself and pass every Origin check. The names allowed are
those of ``IDE_ALLOWED_ORIGINS``; without it, the loopback names and the listen address at
the listen port. Listening on every interface with no public origin configured leaves the
name unchecked, with a warning: the admin must say under which name users reach it.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import Config
from .http import error_response

log = logging.getLogger(__name__)

_DEFAULT_PORT = {"http": 80, "https": 443}
# Probes (kubelet, load balancers) address the pod by its IP; the health answer says nothing.
_ANY_HOST = frozenset({"/healthz"})


def allowed_hosts(config: Config) -> frozenset[str] | None:
    """Every accepted ``Host`` value (lower case), or None for any."""
    hosts: set[str] = set()
    if config.allowed_origins:
        for origin in config.allowed_origins:
            parts = urlsplit(origin)
            hosts.add(parts.netloc.lower())
            if parts.port is None and parts.hostname:
                hosts.add(f"{parts.netloc.lower()}:{_DEFAULT_PORT.get(parts.scheme, 80)}")
        return frozenset(hosts)
    if config.host in ("0.0.0.0", "::", ""):  # noqa: S104 - comparing, not binding
        return None
    public = urlsplit(config.public_url) if config.public_url else None
    if public is not None and public.netloc:
        hosts.add(public.netloc.lower())
    listen = f"[{config.host}]" if ":" in config.host else config.host
    for name in ("localhost", "127.0.0.1", "[::1]", listen.lower()):
        hosts.add(f"{name}:{config.port}")
        if config.port in (80, 443):
            hosts.add(name)
    return frozenset(hosts)


class HostMiddleware:
    """400 (HTTP) or close 1008 (WebSocket) for a ``Host`` this server does not answer to."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None) -> None:
        self.app = app
        self.hosts = hosts
        if hosts is None:
            log.warning(
                "listening on every interface without IDE_ALLOWED_ORIGINS: the Host header "
                "is not checked; set the origin users reach the IDE at"
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.hosts is not None
            and scope["type"] in ("http", "websocket")
            and scope["path"] not in _ANY_HOST
            and Headers(scope=scope).get("host", "").lower() not in self.hosts
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                message = "This server does not answer to that host name (IDE_ALLOWED_ORIGINS)."
                await error_response(400, "bad_host", message)(scope, receive, send)
            return
        await self.app(scope, receive, send)
