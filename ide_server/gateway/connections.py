"""What one connection may cost before it is a request, for the gateway's uvicorn server.

uvicorn bounds some of it (h11's buffer of an incomplete request head, the keep-alive
timeout, a global concurrency limit) but not all: a client that trickles a header byte
every few seconds keeps its connection forever (each byte restarts the keep-alive timer),
and one address may open as many connections as it likes. ``guarded_protocol`` adds, per
connection:

- a deadline for the request head (line and headers), re-armed for each request of a
  keep-alive connection: 408 and closed when it passes;
- a head of at most ``MAX_HEAD_BYTES``: 431 (h11's own buffer limit is set to the same
  size, so nothing larger is ever held);
- at most ``per_address`` open connections per client address (WebSockets included):
  503 and closed above it.

``HeaderLimits`` refuses requests with more than ``MAX_HEADERS`` header lines, or a head
that arrived whole but is larger than ``MAX_HEAD_BYTES`` (431).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_remote_addr

from .http import error_response

MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
_SWEEP_EVERY = 256  # connections between two sweeps of every address's closed transports


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the bounds above; subclassed by ``guarded_protocol``."""

    header_timeout: ClassVar[float] = 10.0
    per_address: ClassVar[int] = 64
    open_by_address: ClassVar[dict[str, set[asyncio.BaseTransport]]] = {}
    made: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = (get_remote_addr(transport) or ("unknown", 0))[0]
        if not self._admit(address, transport):
            self._refuse(503, b"Too many connections from your address.")
            return
        self._arm()

    @classmethod
    def _admit(cls, address: str, transport: asyncio.BaseTransport) -> bool:
        cls.made += 1
        if cls.made % _SWEEP_EVERY == 0:
            for key in list(cls.open_by_address):
                cls._live(key)
        live = cls._live(address)
        if len(live) >= cls.per_address:
            return False
        live.add(transport)
        return True

    @classmethod
    def _live(cls, address: str) -> set[asyncio.BaseTransport]:
        # Counting transports rather than protocol callbacks also counts upgraded
        # WebSockets, whose connection_lost goes to another protocol object.
        live = {t for t in cls.open_by_address.get(address, ()) if not t.is_closing()}
        if live:
            cls.open_by_address[address] = live
        else:
            cls.open_by_address.pop(address, None)
        return cls.open_by_address.setdefault(address, live)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            self._head_bytes += len(data)
        before = self.scope
        super().data_received(data)
        if self.scope is not before:  # a request head was parsed
            self._disarm()

    def on_response_complete(self) -> None:
        before = self.scope
        super().on_response_complete()
        if self.scope is before and not self.transport.is_closing():
            self._arm()  # waiting for the head of the next request

    def send_400_response(self, msg: str) -> None:
        if self._deadline is not None and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, b"The request head is too large.")
        else:
            super().send_400_response(msg)

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self._refuse(408, b"The request head took too long.")

    def _refuse(self, status: int, message: bytes) -> None:
        """Answer and close; written raw, since h11 may not be in a state to answer (no
        request yet, or a broken one)."""
        self._disarm()
        reason = _REASONS[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
            % (status, reason, len(message), message)
        )
        self.transport.close()


_REASONS = {
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}


def guarded_protocol(*, header_timeout: float, per_address: int) -> type[GuardedH11Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with its own address table."""
    return type(
        "GatewayH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout": header_timeout, "per_address": per_address, "open_by_address": {}},
    )


class HeaderLimits:
    """431 for requests (and refused upgrades) with more than ``MAX_HEADERS`` headers or a
    head larger than ``MAX_HEAD_BYTES``: h11 bounds only a head that is still incomplete,
    so one that arrives whole in a single read is measured here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            size = sum(len(k) + len(v) + 4 for k, v in headers) + len(scope["raw_path"])
            if len(headers) > MAX_HEADERS or size > MAX_HEAD_BYTES:
                await _refuse_head(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _refuse_head(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        message = f"At most {MAX_HEADERS} request headers and {MAX_HEAD_BYTES} bytes of them."
        await error_response(431, "headers_too_large", message)(scope, receive, send)
    else:
        await send({"type": "websocket.close", "code": 1008})
