"""The Host header names this server, and writes prove they come from its own pages."""

from __future__ import annotations

import httpx
import pytest
import websockets

from ide_server.config import load_config
from ide_server.gateway.hosts import HostMiddleware, allowed_hosts
from tests.gateway.asgi import Inner, call, http_scope, status_of, websocket_scope
from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess


def _hosts(**settings: object) -> frozenset[str] | None:
    return allowed_hosts(load_config(settings, env={}))


def test_the_allowed_hosts_follow_the_configuration() -> None:
    assert _hosts(port=8000) == {"localhost:8000", "127.0.0.1:8000", "[::1]:8000"}
    assert "ide.lan:8000" in (_hosts(host="ide.lan", port=8000) or ())
    public = _hosts(allowed_origins=("https://ide.corp.example",), port=8000)
    assert public == {"ide.corp.example", "ide.corp.example:443"}
    assert _hosts(host="0.0.0.0") is None  # unknown public name: warned, not checked


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1:8001", "localhost.evil:8000", ""])
async def test_another_host_is_refused(host: str) -> None:
    guard = HostMiddleware(Inner(), _hosts(port=8000))
    headers = {"host": host} if host else {}
    assert status_of(await call(guard, http_scope("/api/me", headers=headers))) == 400
    sent = await call(guard, websocket_scope("/sessions/x/ide", headers=headers))
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert status_of(await call(guard, http_scope("/healthz", headers=headers))) == 204


async def test_our_host_passes() -> None:
    guard = HostMiddleware(Inner(), _hosts(port=8000))
    scope = http_scope("/api/me", headers={"host": "LOCALHOST:8000"})
    assert status_of(await call(guard, scope)) == 204


def test_a_rebound_name_reaches_nothing(gateway: GatewayProcess) -> None:
    """A page on evil.example, resolved to the gateway, is same-origin with itself only."""
    evil = {"Host": "evil.example", "Origin": "http://evil.example"}
    body = {"username": "alice", "password": PASSWORD}
    response = httpx.post(f"{gateway.url}/api/auth/login", json=body, headers=evil)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_host"
    assert httpx.get(f"{gateway.url}/api/me", headers=evil).status_code == 400


async def test_a_rebound_name_cannot_open_a_socket(
    gateway: GatewayProcess, alice: Api, alice_session: dict
) -> None:
    headers = {**alice.ws_headers(origin="http://evil.example"), "Host": "evil.example"}
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(
            alice.ws_url(f"/sessions/{alice_session['id']}/ide"), additional_headers=headers
        )


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),  # a script or a form of unknown origin
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, 403),
        ({"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"}, 403),
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors"}, 403),
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, 200),
        ({"Origin": "self"}, 200),
        ({"Origin": "http://evil.example"}, 403),
    ],
)
def test_writes_need_a_same_origin_proof(
    gateway: GatewayProcess, headers: dict[str, str], status: int
) -> None:
    if headers.get("Origin") == "self":
        headers = {"Origin": gateway.url}
    body = {"username": "bob", "password": PASSWORD}
    response = httpx.post(f"{gateway.url}/api/auth/login", json=body, headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["error"]["code"] == "bad_origin"
