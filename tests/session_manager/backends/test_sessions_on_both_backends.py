"""The session manager end to end through a real gateway, once per backend: stop keeps the
volume, a gateway killed with -9 adopts its pods, orphans are removed, dead pods noticed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess
from tests.support.pg import temporary_database

from .harness import Harness


@pytest.fixture
def gateway(harness: Harness, tmp_path: Path) -> Iterator[GatewayProcess]:
    with temporary_database(tmp_path) as url:
        gw = harness.gateway(tmp_path / "data", url, demo="true")
        gw.start()
        gw.cli("user", "add", "erin", "--password", PASSWORD)
        gw.cli("member", "add", "demo", "erin", "developer")
        yield gw
        harness.close(gw)


def _login(gw: GatewayProcess) -> Api:
    api = Api(gw.url)
    assert api.login("erin", PASSWORD).status_code == 200
    return api


def _wait(predicate, what: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


async def test_stop_keeps_the_volume_and_the_next_pod_sees_the_files(
    harness: Harness, gateway: GatewayProcess
) -> None:
    api = _login(gateway)
    first = api.open_session()
    async with await api.rpc(first["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/kept.sql", "content": "select 'kept'"})
    stopped = api.http.delete(f"/api/sessions/{first['id']}").json()
    assert stopped["state"] == "stopped"
    assert not harness.pod_exists(gateway, first["id"])
    volume = harness.volume(gateway, "erin", "demo")
    assert (volume / "models/kept.sql").read_text() == "select 'kept'"
    second = api.open_session()
    assert second["id"] != first["id"]
    async with await api.rpc(second["id"]) as rpc:
        read = await rpc.call("fs/read", {"path": "models/kept.sql"})
        assert read["content"] == "select 'kept'"


async def test_gateway_killed_and_restarted_adopts_the_running_pod(
    harness: Harness, gateway: GatewayProcess
) -> None:
    api = _login(gateway)
    session = api.open_session()
    pid = harness.pod_pid(gateway, session["id"])
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/adopt.sql", "content": "select 1"})
    gateway.kill()
    gateway.start()
    again = api.http.get(f"/api/sessions/{session['id']}")
    assert again.status_code == 200 and again.json()["state"] == "ready"
    assert harness.pod_pid(gateway, session["id"]) == pid, "the same pod, not a new one"
    async with await api.rpc(session["id"]) as rpc:
        assert (await rpc.call("fs/read", {"path": "models/adopt.sql"}))["content"] == "select 1"
    reopened = api.http.post("/api/sessions", json={"project": "demo"})
    assert reopened.status_code == 200 and reopened.json()["id"] == session["id"]


async def test_orphan_pods_are_removed_at_start(harness: Harness, gateway: GatewayProcess) -> None:
    api = _login(gateway)
    session = api.open_session()
    gateway.kill()
    with psycopg.connect(gateway.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM sessions WHERE id = %s", (session["id"],))
    gateway.start()
    _wait(lambda: not harness.pod_exists(gateway, session["id"]), "orphan pod still running")


async def test_a_pod_that_dies_is_noticed_and_replaced_on_the_same_volume(
    harness: Harness, gateway: GatewayProcess
) -> None:
    api = _login(gateway)
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/survives.sql", "content": "select 2"})
    harness.kill_pod(gateway, session["id"])

    def noticed() -> bool:
        # Traffic to a dead pod makes the gateway poll the backend.
        api.http.put(f"/sessions/{session['id']}/api/collaboration/session/x", json={})
        return api.http.get(f"/api/sessions/{session['id']}").json()["state"] == "stopped"

    _wait(noticed, "the dead pod was never noticed")
    assert api.http.get(f"/api/sessions/{session['id']}").json()["reason"] == "pod exited"
    fresh = api.open_session()
    async with await api.rpc(fresh["id"]) as rpc:
        assert (await rpc.call("fs/read", {"path": "models/survives.sql"}))["content"] == "select 2"
