"""Restarts: SIGTERM closes sockets with 1012 and the pods carry on; a pod whose gateway
never comes back stops itself."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import websockets

from tests.support.gateway import PASSWORD, GatewayProcess, login_as
from tests.support.pg import temporary_database


def own_gateway(tmp_path: Path, url: str, **settings: str) -> GatewayProcess:
    gw = GatewayProcess(tmp_path / "data", url, **settings)
    gw.start()
    gw.cli("user", "add", "erin", "--password", PASSWORD)
    gw.cli("member", "add", "demo", "erin", "developer")
    return gw


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_closes_sockets_with_1012_and_the_next_gateway_adopts_the_pod(
    tmp_path: Path,
) -> None:
    with temporary_database(tmp_path) as url:
        gw = own_gateway(tmp_path, url, shutdown_grace="5")
        try:
            api = login_as(gw, "erin")
            session = api.open_session()
            pid = gw.pod_pid(session["id"])

            async def socket_across_sigterm() -> tuple[int | None, float]:
                ws = await websockets.connect(
                    api.ws_url(f"/sessions/{session['id']}/ide"),
                    additional_headers=api.ws_headers(),
                )
                await ws.send('{"jsonrpc": "2.0", "id": 1, "method": "session/status"}')
                await asyncio.wait_for(ws.recv(), 30)
                began = time.monotonic()
                assert gw.proc is not None
                gw.proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(ws.wait_closed(), 30)
                return ws.close_code, time.monotonic() - began

            code, waited = asyncio.run(socket_across_sigterm())
            assert code == 1012  # service restart: the browser reconnects at once
            assert waited < 5  # closed at the signal, not after the grace
            assert gw.proc is not None
            # uvicorn ends by raising the signal again once its shutdown is done.
            assert gw.proc.wait(timeout=30) in (0, -signal.SIGTERM)
            assert "Application shutdown complete" in gw.log()
            assert alive(pid), "a gateway's restart must not stop the pods"

            gw.start()  # the same data dir and database: the pod is adopted
            again = api.http.get(f"/api/sessions/{session['id']}").json()
            assert again["state"] == "ready"

            async def use_it() -> None:
                async with await api.rpc(session["id"]) as rpc:
                    listing = await rpc.call("fs/list", {"path": ""})
                    assert listing

            asyncio.run(use_it())
            assert gw.pod_pid(session["id"]) == pid
        finally:
            gw.stop()
            gw.stop_pods()


def test_a_pod_whose_gateway_never_comes_back_stops_itself(tmp_path: Path) -> None:
    # idle 8 s and a pass every second: a pod hearing nothing for 8 s is orphaned.
    with temporary_database(tmp_path) as url:
        gw = own_gateway(tmp_path, url, idle_timeout="8", cull_interval="1")
        try:
            api = login_as(gw, "erin")
            session = api.open_session()
            pid = gw.pod_pid(session["id"])
            gw.kill()  # kill -9: nothing of the gateway runs any more
            time.sleep(1)
            assert alive(pid), "the pod must not stop with its gateway"
            deadline = time.monotonic() + 90
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.25)
            assert not alive(pid), "the orphaned pod is still running"
        finally:
            gw.stop()
            gw.stop_pods()
