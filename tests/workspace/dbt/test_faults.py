"""dbt processes killed from outside (kill -9): the invocation fails, the session goes on."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from .conftest import Notes, Pod, new_id, run_to_done, wait_done
from .test_run import LONG_MODEL


def _children(pod: Pod, module: str) -> list[int]:
    """PIDs of the pod's child processes running ``python -m <module>``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pod.proc.pid and module.encode() in cmdline:
            found.append(int(entry.name))
    return found


async def _wait_for_child(pod: Pod, module: str, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while not (pids := _children(pod, module)):
        assert time.monotonic() < deadline, f"no {module} process"
        await asyncio.sleep(0.05)
    return pids[0]


async def test_a_killed_command_fails_and_the_next_one_runs(rpc: Notes, demo_pod: Pod) -> None:
    model = demo_pod.volume / "models" / "long_running.sql"
    model.write_text(LONG_MODEL)
    try:
        invocation_id = new_id()
        await rpc.call("dbt/run", {"invocation_id": invocation_id, "command": "run",
                                   "args": ["-s", "long_running"]})  # fmt: skip
        await rpc.first("invocation_id", invocation_id, ("dbt/node", "dbt/log"), timeout=120)
        os.kill(await _wait_for_child(demo_pod, "ide_server.workspace.dbt.writer"), signal.SIGKILL)
        done, seen = await wait_done(rpc, invocation_id, timeout=30)
        assert done["success"] is False and done["cancelled"] is False
        assert any("ended unexpectedly" in m["params"].get("msg", "") for m in seen)
        history = (await rpc.call("dbt/history", {"limit": 1}))["invocations"]
        assert history[0]["invocation_id"] == invocation_id and history[0]["status"] == "error"
    finally:
        model.unlink()
    done, _ = await run_to_done(rpc, "seed")
    assert done["success"] is True


async def test_a_killed_worker_is_started_again(rpc: Notes, demo_pod: Pod) -> None:
    await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})
    os.kill(await _wait_for_child(demo_pod, "ide_server.workspace.dbt.reader"), signal.SIGKILL)
    result = await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})
    assert '"dev"."analytics"' in result["compiled_sql"]
