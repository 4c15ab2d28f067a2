"""Local session pods end to end: stop keeps the volume, crashes lose no files, restarts adopt."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import httpx
import pytest

from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess, login_as
from tests.support.pg import temporary_database


@pytest.fixture
def own_gateway(tmp_path: Path):
    """A gateway of this test's own, so that killing it harms no other test."""
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url, demo="true")
        gw.start()
        gw.cli("user", "add", "erin", "--password", PASSWORD)
        gw.cli("member", "add", "demo", "erin", "developer")
        yield gw
        gw.stop()
        gw.stop_pods()


async def test_stop_keeps_the_volume_and_the_next_pod_sees_the_files(own_gateway) -> None:
    api = login_as(own_gateway, "erin")
    first = api.open_session()
    runtime = own_gateway.runtime_dir(first["id"])
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    assert stat.S_IMODE(runtime.parent.stat().st_mode) == 0o700
    assert not str(runtime).startswith(str(own_gateway.data_dir / "volumes"))
    sock = runtime / "pod.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode)
    async with await api.rpc(first["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/kept.sql", "content": "select 'kept'"})
    pid = own_gateway.pod_pid(first["id"])
    stopped = api.http.delete(f"/api/sessions/{first['id']}").json()
    assert stopped["state"] == "stopped"
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert not runtime.exists()
    second = api.open_session()
    assert second["id"] != first["id"]
    async with await api.rpc(second["id"]) as rpc:
        read = await rpc.call("fs/read", {"path": "models/kept.sql"})
        assert read["content"] == "select 'kept'"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


async def test_pod_killed_mid_session_loses_no_saved_file(own_gateway) -> None:
    api = login_as(own_gateway, "erin")
    session = api.open_session()
    async with await api.rpc(session["id"]) as rpc:
        for i in range(20):
            await rpc.call(
                "fs/write", {"path": f"models/crash/m{i}.sql", "content": f"select {i}\n" * 100}
            )
    # The whole process group: the recorded pid is the sandbox's bwrap, and the pod inside
    # (its own PID namespace) outlives bwrap alone.
    os.killpg(own_gateway.pod_pid(session["id"]), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while api.http.get(f"/api/sessions/{session['id']}").json()["state"] != "stopped":
        api.http.put(f"/sessions/{session['id']}/api/collaboration/session/x", json={})
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert api.http.get(f"/api/sessions/{session['id']}").json()["reason"] == "pod exited"
    fresh = api.open_session()
    async with await api.rpc(fresh["id"]) as rpc:
        for i in range(20):
            read = await rpc.call("fs/read", {"path": f"models/crash/m{i}.sql"})
            assert read["content"] == f"select {i}\n" * 100
    volume = own_gateway.data_dir / "volumes" / "erin" / "demo"
    assert not list(volume.rglob("*.tmp")), "no half-written temp files remain"


async def test_gateway_killed_and_restarted_adopts_the_running_pod(own_gateway) -> None:
    api = login_as(own_gateway, "erin")
    session = api.open_session()
    pid = own_gateway.pod_pid(session["id"])
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/write", {"path": "models/adopt.sql", "content": "select 1"})
    own_gateway.kill()
    own_gateway.start()
    again = api.http.get(f"/api/sessions/{session['id']}")
    assert again.status_code == 200 and again.json()["state"] == "ready"
    assert own_gateway.pod_pid(session["id"]) == pid
    async with await api.rpc(session["id"]) as rpc:
        assert (await rpc.call("fs/read", {"path": "models/adopt.sql"}))["content"] == "select 1"
    reopened = api.http.post("/api/sessions", json={"project": "demo"})
    assert reopened.status_code == 200 and reopened.json()["id"] == session["id"]


async def test_orphan_pods_are_removed_at_start(own_gateway) -> None:
    api = login_as(own_gateway, "erin")
    session = api.open_session()
    pid = own_gateway.pod_pid(session["id"])
    own_gateway.kill()
    import psycopg

    with psycopg.connect(own_gateway.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM sessions WHERE id = %s", (session["id"],))
    own_gateway.start()
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}").exists() and not _is_zombie(pid):
        assert time.monotonic() < deadline, "orphan pod still running"
        time.sleep(0.1)


def test_health(own_gateway) -> None:
    assert httpx.get(f"{own_gateway.url}/healthz").json() == {"status": "ok"}


def test_pods_do_not_inherit_the_gateways_credentials(tmp_path: Path) -> None:
    with temporary_database(tmp_path) as url:
        gw = GatewayProcess(tmp_path / "data", url)
        gw.extra_env = {"AWS_SECRET_ACCESS_KEY": "gateway-only-secret", "PGPASSWORD": "pg-secret"}
        gw.start()
        try:
            gw.cli("user", "add", "hana", "--password", PASSWORD)
            gw.cli("member", "add", "demo", "hana", "developer")
            api = Api(gw.url)
            api.login("hana", PASSWORD)
            session = api.open_session()
            environ = Path(f"/proc/{gw.pod_pid(session['id'])}/environ").read_bytes()
            assert b"gateway-only-secret" not in environ and b"pg-secret" not in environ
            assert b"IDE_DATABASE_URL" not in environ and b"IDE_POD_SESSION_ID=" in environ
        finally:
            gw.stop()
            gw.stop_pods()
