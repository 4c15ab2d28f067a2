"""Driving an ASGI layer by hand: a scope, scripted client messages, the messages sent."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def http_scope(
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    state: dict[str, Any] | None = None,
) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("ide.example", 80),
        "client": ("127.0.0.1", 5000),
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "state": {} if state is None else state,
    }


def websocket_scope(
    path: str, *, headers: dict[str, str] | None = None, state: dict[str, Any] | None = None
) -> Scope:
    scope = http_scope(path, headers=headers, state=state)
    del scope["method"]
    scope.update(type="websocket", scheme="ws", subprotocols=[])
    return scope


class Inner:
    """The next layer: records the scope it was called with, answers 204 (or accepts)."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "websocket.accept"})


async def call(app: ASGIApp, scope: Scope, *incoming: Message) -> list[Message]:
    """Run ``app`` on ``scope``; the client sends ``incoming`` (then disconnects)."""
    queue = list(incoming) or [
        {"type": "http.request", "body": b""}
        if scope["type"] == "http"
        else {"type": "websocket.connect"}
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect" if scope["type"] == "http" else "websocket.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def status_of(sent: list[Message]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def header_of(sent: list[Message], name: str) -> str | None:
    start = next(m for m in sent if m["type"] == "http.response.start")
    for key, value in start["headers"]:
        if key.decode().lower() == name:
            return value.decode()
    return None
