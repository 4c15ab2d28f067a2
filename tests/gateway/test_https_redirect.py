"""The plain-HTTP listener (--http-redirect-port): 308 to the configured https URL, whatever
the Host header says, and no WebSocket upgrade."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.support.gateway import GatewayProcess, free_port
from tests.support.pg import temporary_database

PUBLIC = "https://ide.example.test:8443"


@pytest.fixture(scope="module")
def redirecting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, int]]:
    tmp = tmp_path_factory.mktemp("redirect")
    port = free_port()
    with temporary_database(tmp) as url:
        gw = GatewayProcess(
            tmp / "data",
            url,
            tls_self_signed="true",
            demo="false",
            http_redirect_port=str(port),
            public_url=PUBLIC,
        )
        gw.start()
        try:
            yield gw, port
        finally:
            gw.stop()


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1", "ide.example.test:8443@evil"])
def test_the_redirect_goes_to_the_configured_url_whatever_the_host(
    redirecting: tuple[GatewayProcess, int], host: str
) -> None:
    _, port = redirecting
    response = httpx.get(
        f"http://127.0.0.1:{port}/api/projects?x=1&y=%2F",
        headers={"Host": host},
        follow_redirects=False,
    )
    assert response.status_code == 308
    assert response.headers["location"] == f"{PUBLIC}/api/projects?x=1&y=%2F"


def test_a_path_cannot_change_the_redirect_host(redirecting: tuple[GatewayProcess, int]) -> None:
    _, port = redirecting
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"GET //evil.example/x HTTP/1.1\r\nHost: evil.example\r\n\r\n")
        head = raw.recv(4096).decode()
    location = next(line for line in head.split("\r\n") if line.lower().startswith("location:"))
    assert location.split(":", 1)[1].strip().startswith(f"{PUBLIC}/")


def test_websocket_upgrades_are_refused_on_plain_http(
    redirecting: tuple[GatewayProcess, int],
) -> None:
    _, port = redirecting

    async def attempt() -> None:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/sessions/x/ide", additional_headers={"Origin": PUBLIC}
        ):
            pass

    import asyncio

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        asyncio.run(attempt())
    assert refused.value.response.status_code == 403


def test_the_https_listener_still_serves(redirecting: tuple[GatewayProcess, int]) -> None:
    gw, _ = redirecting
    assert httpx.get(f"{gw.url}/healthz", verify=gw.verify).status_code == 200
