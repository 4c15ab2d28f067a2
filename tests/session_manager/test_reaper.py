"""Reaping: idle sessions stop (volume kept), working ones never do; one reaper at a time."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess, login_as, two_replicas
from tests.support.pg import temporary_database


@pytest.fixture(scope="module")
def reaping_gateway(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("reaper")
    with temporary_database(tmp) as url:
        dbname = url.rsplit("/", 1)[1].split("?")[0]
        # A PostgreSQL warehouse, so that a preview can run for a known time (pg_sleep).
        warehouse = json.dumps(
            {
                "type": "postgres",
                "host": "127.0.0.1",
                "port": 5432,
                "dbname": dbname,
                "user": "postgres",
            }
        )
        gw = GatewayProcess(
            tmp / "data", url, idle_timeout="4", cull_interval="1", warehouse=warehouse
        )
        gw.start()
        for user in ("idle", "busy", "gone", "query"):
            gw.cli("user", "add", user, "--password", PASSWORD)
            gw.cli("member", "add", "demo", user, "developer")
        yield gw
        gw.stop()
        gw.stop_pods()


async def _wait_state(api: Api, sid: str, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session = api.http.get(f"/api/sessions/{sid}").json()
        if session["state"] == state:
            return session
        await asyncio.sleep(0.3)
    raise AssertionError(f"session {sid} never became {state}")


async def test_idle_tab_with_heartbeats_only_is_reaped_and_the_volume_kept(
    reaping_gateway: GatewayProcess,
) -> None:
    api = login_as(reaping_gateway, "idle")
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/before_reap.sql", "content": "select 1"})
        deadline = time.monotonic() + 30
        while api.http.get(f"/api/sessions/{session['id']}").json()["state"] == "ready":
            assert time.monotonic() < deadline, "an idle session was never reaped"
            await rpc.call("session/heartbeat")
            await asyncio.sleep(1)
    reaped = await _wait_state(api, session["id"], "stopped")
    assert reaped["reason"] == "idle"
    volume = Path(reaping_gateway.data_dir) / "volumes" / "idle" / "demo"
    assert (volume / "models/before_reap.sql").read_text() == "select 1"
    again = api.open_session()
    async with await api.rpc(again["id"]) as rpc:
        read = await rpc.call("fs/read", {"path": "models/before_reap.sql"})
        assert read["content"] == "select 1"


async def test_a_session_in_use_is_never_reaped(reaping_gateway: GatewayProcess) -> None:
    api = login_as(reaping_gateway, "busy")
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        for _ in range(10):  # 10 s: more than twice the idle timeout
            await rpc.call("fs/list", {"path": ""})
            await asyncio.sleep(1)
            assert api.http.get(f"/api/sessions/{session['id']}").json()["state"] == "ready"


async def test_admin_view_lists_every_session(reaping_gateway: GatewayProcess) -> None:
    api = login_as(reaping_gateway, "gone")
    session = api.open_session()
    admin = Api(reaping_gateway.url)
    from tests.support.gateway import ADMIN_PASSWORD

    admin.login("admin", ADMIN_PASSWORD)
    listing = admin.http.get("/api/admin/sessions").json()
    mine = next(s for s in listing if s["id"] == session["id"])
    assert mine["user"] == "gone" and mine["backend"] == "local" and mine["state"] == "ready"
    assert "last_activity" in mine and mine["age_seconds"] >= 0
    assert api.http.get("/api/admin/sessions").status_code == 403
    stopped = admin.http.delete(f"/api/sessions/{session['id']}")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"


async def test_a_long_preview_without_browser_traffic_is_not_reaped(
    reaping_gateway: GatewayProcess,
) -> None:
    api = login_as(reaping_gateway, "query")
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        started = await rpc.call(
            "query/preview", {"query_id": "q1", "sql": "select pg_sleep(12) as slept"}
        )
        # No frame crosses the gateway for 12 s: three times the idle timeout.
        done = await rpc.notification("query/done", timeout=60)
        assert done["query_id"] == started["query_id"] == "q1" and done["row_count"] == 1
        assert api.http.get(f"/api/sessions/{session['id']}").json()["state"] == "ready"


def _reaped(gateways: tuple[GatewayProcess, ...], session_id: str) -> list[int]:
    """How many times each replica's log says it reaped the session."""
    return [gw.log().count(f"stopping session {session_id} ") for gw in gateways]


async def test_two_replicas_reap_an_idle_session_once_and_the_survivor_takes_over(
    tmp_path: Path,
) -> None:
    with two_replicas(tmp_path, idle_timeout="3", cull_interval="1") as gateways:
        first, second = gateways
        for user in ("once", "later"):
            first.cli("user", "add", user, "--password", PASSWORD)
            first.cli("member", "add", "demo", user, "developer")
        leaders = [gw for gw in gateways if "this gateway is now the session reaper" in gw.log()]
        assert len(leaders) == 1, "exactly one replica leads the reaper"
        (leader,) = leaders
        api = login_as(second if leader is first else first, "once")
        session = api.open_session()
        reaped = await _wait_state(api, session["id"], "stopped")
        assert reaped["reason"] == "idle"
        await asyncio.sleep(3)  # three more passes of each replica: none may stop it again
        assert _reaped(gateways, session["id"]) == [int(gw is leader) for gw in gateways]
        for gw in gateways:
            assert f"could not stop session {session['id']}" not in gw.log()
            assert "Traceback" not in gw.log()

        # The leader dies without a word: its lock goes with its connection, and the other
        # replica reaps from its next pass on.
        survivor = second if leader is first else first
        leader.kill()
        api = login_as(survivor, "later")
        session = api.open_session()
        reaped = await _wait_state(api, session["id"], "stopped")
        assert reaped["reason"] == "idle"
        assert "this gateway is now the session reaper" in survivor.log()
        assert _reaped(gateways, session["id"]) == [int(gw is survivor) for gw in gateways]
