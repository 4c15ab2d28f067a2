"""A PostgreSQL restart is survived: requests during the gap get 503, then all works again."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pgserver

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess


def test_gateway_answers_503_while_postgres_is_down_and_recovers(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    url = server.get_uri()
    gw = GatewayProcess(tmp_path / "data", url, demo="false")
    gw.start()
    try:
        gw.cli("user", "add", "olga", "--password", PASSWORD)
        api = Api(gw.url)
        assert api.login("olga", PASSWORD).status_code == 200
        server.cleanup()  # PostgreSQL stops under the running gateway
        during = api.http.get("/api/me", timeout=60)
        assert during.status_code == 503
        assert during.json()["error"]["code"] == "unavailable"
        assert "retry-after" in during.headers
        assert httpx.get(f"{gw.url}/healthz").status_code == 200  # the process lives on
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        deadline = time.monotonic() + 60
        while (status := api.http.get("/api/me", timeout=60).status_code) != 200:
            assert status == 503 and time.monotonic() < deadline
            time.sleep(0.5)
        assert api.http.get("/api/me").json()["username"] == "olga"  # the login survived
    finally:
        gw.stop()
        server.cleanup()
