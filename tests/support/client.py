"""Clients of the gateway as a browser would use it: REST with the cookie, the IDE socket."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        # What a browser page of the gateway sends with every write (see docs/api.md).
        self.http = httpx.Client(base_url=base_url, timeout=60, headers={"Origin": base_url})

    def login(self, username: str, password: str) -> httpx.Response:
        return self.http.post("/api/auth/login", json={"username": username, "password": password})

    @property
    def cookie(self) -> str | None:
        return self.http.cookies.get("ide_session")

    def open_session(self, project: str = "demo", timeout: float = 120) -> dict[str, Any]:
        r = self.http.post("/api/sessions", json={"project": project})
        assert r.status_code in (200, 201), r.text
        return self.wait_ready(r.json()["id"], timeout)

    def wait_ready(self, session_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = self.http.get(f"/api/sessions/{session_id}").json()
            if session["state"] == "ready":
                return session
            assert session["state"] in ("pending", "starting"), session
            time.sleep(0.2)
        raise AssertionError(f"session {session_id} not ready in {timeout}s")

    def ws_url(self, path: str) -> str:
        return self.base_url.replace("http://", "ws://") + path

    def ws_headers(self, origin: str | None = "self") -> dict[str, str]:
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"ide_session={self.cookie}"
        if origin == "self":
            headers["Origin"] = self.base_url
        elif origin is not None:
            headers["Origin"] = origin
        return headers

    async def rpc(self, session_id: str, **kwargs: Any) -> Rpc:
        ws = await websockets.connect(
            self.ws_url(f"/sessions/{session_id}/ide"),
            additional_headers=self.ws_headers(),
            max_size=None,
            **kwargs,
        )
        return Rpc(ws)


class RpcFailure(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.code = error.get("code")
        self.error = error


class Rpc:
    """JSON-RPC 2.0 over one socket; notifications are queued in ``notifications``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.notifications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                if "id" in message and message["id"] in self._pending:
                    self._pending.pop(message["id"]).set_result(message)
                elif "method" in message:
                    await self.notifications.put(message)
                else:
                    await self.notifications.put(message)
        except websockets.ConnectionClosed:
            pass
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("socket closed"))

    async def raw(self, payload: Any, timeout: float = 30) -> dict[str, Any]:
        request_id = next(self._ids)
        payload = {**payload, "id": request_id}
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self.ws.send(json.dumps(payload))
        return await asyncio.wait_for(future, timeout)

    async def call(self, method: str, params: Any = None, timeout: float = 60) -> Any:
        payload: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            payload["params"] = params
        reply = await self.raw(payload, timeout)
        if "error" in reply:
            raise RpcFailure(reply["error"])
        return reply["result"]

    async def notification(self, method: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            message = await asyncio.wait_for(self.notifications.get(), max(remaining, 0.01))
            if message.get("method") == method:
                return message["params"]

    async def closed(self) -> None:
        """Wait until the server closed the socket."""
        await asyncio.shield(self._reader)

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()

    async def __aenter__(self) -> Rpc:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
