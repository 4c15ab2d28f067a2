"""The pod's spool of invocations: what the gateway collects, over the pod's own token.

A command running when its pod is killed (kill -9: no shutdown code runs) is found by the
next pod on the same volume, marked cancelled with its log kept and told why; the gateway's
acknowledgement removes it. Without the pod token the endpoints answer nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from ide_server.workspace.dbt.spool import POD_STOPPED

from .conftest import Notes, Pod, copy_demo_project, new_id, start_pod
from .test_faults import _wait_for_child
from .test_run import LONG_MODEL


def _http(pod: Pod, token: str | None) -> httpx.Client:
    base = pod.url.replace("ws://", "http://").removesuffix("/ide")
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=30)


async def test_a_command_running_when_the_pod_dies_is_kept_as_cancelled(
    tmp_path: Path, demo_warehouse: Path
) -> None:
    volume = copy_demo_project(tmp_path / "volume")
    (volume / "models" / "long_running.sql").write_text(LONG_MODEL)
    warehouse = {"type": "duckdb", "path": str(demo_warehouse)}
    pod = start_pod(volume, warehouse)
    invocation_id = new_id()
    try:
        rpc = Notes(await pod.rpc())
        await rpc.call("dbt/run", {"invocation_id": invocation_id, "command": "run",
                                   "args": ["-s", "long_running"]})  # fmt: skip
        await rpc.first("invocation_id", invocation_id, ("dbt/log",), timeout=120)
        with _http(pod, pod.token) as http:
            # The debug log grows as dbt runs, readable while it does.
            for _ in range(600):
                log = http.get(f"/ide/invocations/{invocation_id}/files/dbt.log").text
                if "START sql table model" in log:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the model never started: {log[-2000:]}")
            listed = http.get("/ide/invocations").json()["invocations"]
            assert [(i["invocation_id"], i["status"]) for i in listed] == [
                (invocation_id, "running")
            ]
            # Running: the gateway may not remove it.
            assert http.delete(f"/ide/invocations/{invocation_id}").status_code == 409
        for token in (None, "forged-token"):
            with _http(pod, token) as http:
                for path in ("/ide/invocations", f"/ide/invocations/{invocation_id}/files/dbt.log"):
                    answer = http.get(path)
                    assert answer.status_code in (302, 401, 403), (
                        token,
                        path,
                    )  # 302: to a login page
                    assert invocation_id not in answer.text
                assert http.post("/ide/invocations/cancel").status_code in (302, 401, 403)
        writer = await _wait_for_child(pod, "ide_server.workspace.dbt.writer")
        pod.proc.kill()  # the pod first: it must not see its command end
        pod.proc.wait()
        os.kill(writer, signal.SIGKILL)
    finally:
        if pod.proc.poll() is None:
            pod.stop()

    again = start_pod(volume, warehouse)
    try:
        with _http(again, again.token) as http:
            listed = http.get("/ide/invocations").json()["invocations"]
            assert len(listed) == 1
            entry = listed[0]
            assert entry["invocation_id"] == invocation_id and entry["status"] == "cancelled"
            assert entry["command"] == "run" and entry["args"] == ["-s", "long_running"]
            log = http.get(f"/ide/invocations/{invocation_id}/files/dbt.log").text
            assert "long_running" in log and POD_STOPPED in log
            tail = http.get(
                f"/ide/invocations/{invocation_id}/files/dbt.log", params={"offset": len(log) - 10}
            )
            assert tail.text == log[-10:]
            assert http.get(f"/ide/invocations/{invocation_id}/files/secret.txt").status_code == 404
            assert http.delete(f"/ide/invocations/{invocation_id}").status_code == 200
            assert http.get("/ide/invocations").json()["invocations"] == []
    finally:
        again.stop()
    assert not (volume / ".ide" / "dbt" / "spool" / invocation_id).exists()
