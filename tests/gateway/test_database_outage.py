"""A PostgreSQL restart is survived: requests during the gap get 503, then all works again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pgserver
import websockets
from pycrdt import Text

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess
from tests.support.ydoc import eventually, room, room_text


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


async def _upgrade_close_code(api: Api, sid: str) -> int | None:
    """The close code a new IDE socket gets (the gateway accepts, then closes it)."""
    try:
        async with await api.rpc(sid) as other:
            await asyncio.wait_for(other.closed(), 10)
            return other.ws.close_code
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def _timed(call: Any) -> tuple[float, Any]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


async def test_an_outage_fails_fast_drops_no_socket_and_recovers_at_once(tmp_path: Path) -> None:
    """PostgreSQL stops while a user types in a room and works in the IDE socket."""
    pgdata = tmp_path / "pg"
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    gw = GatewayProcess(tmp_path / "data", server.get_uri())
    gw.start()
    try:
        gw.cli("user", "add", "olga", "--password", PASSWORD)
        gw.cli("member", "add", "demo", "olga", "developer")
        api = Api(gw.url)
        assert api.login("olga", PASSWORD).status_code == 200
        sid = api.open_session("demo")["id"]
        path = "models/staging/typed_in_outage.sql"
        target = gw.data_dir / "volumes" / "olga" / "demo" / path
        async with await api.rpc(sid) as rpc:
            await rpc.call("fs/write", {"path": path, "content": "select 1\n"})
            async with room(api, sid, path) as (doc, _):
                text = doc.get("source", type=Text)
                server.cleanup()  # PostgreSQL stops under the running gateway
                text.insert(len(text), "-- typed during the outage\n")  # a frame in flight
                first, during = _timed(lambda: api.http.get("/api/me"))
                assert during.status_code == 503 and "retry-after" in during.headers
                assert first < 1.5, f"the first 503 took {first:.2f}s"
                later, during = _timed(lambda: api.http.get("/api/me"))
                assert during.status_code == 503 and later < 0.5, f"a later 503 took {later:.2f}s"
                assert await _upgrade_close_code(api, sid) == 1013
                # The open sockets carry on: frames both ways, edits saved to disk.
                for _ in range(5):
                    text.insert(len(text), "-- still typing\n")
                    assert await rpc.call("session/heartbeat", timeout=5) == {"ok": True}
                    await asyncio.sleep(0.2)
                expected = "select 1\n-- typed during the outage\n" + "-- still typing\n" * 5
                await eventually(lambda: target.read_text() == expected)
                server = pgserver.get_server(pgdata, cleanup_mode="stop")
                back = time.monotonic()
                while api.http.get("/api/me").status_code != 200:
                    assert time.monotonic() - back < 2.5, "the gateway did not recover in time"
                    await asyncio.sleep(0.05)
                assert await rpc.call("fs/read", {"path": path}) and room_text(doc) == expected
    finally:
        gw.stop()
        gw.stop_pods()
        server.cleanup()
