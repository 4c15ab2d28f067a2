"""Real session pods (``python -m ide_server.workspace.launch``) on the demo project.

Each pod is a child process with its own volume (a copy of the demo project), reached
over its ``/ide`` WebSocket with the pod token, as the gateway reaches it. The demo
warehouse is generated once per test session.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from ide_server.demo.warehouse import create_demo_warehouse
from ide_server.podenv import PodEnv
from tests.support.client import Rpc
from tests.support.gateway import free_port

DEMO_PROJECT = Path(__file__).resolve().parents[3] / "ide_server" / "demo" / "project"


@dataclass
class Pod:
    proc: subprocess.Popen[bytes]
    url: str
    token: str
    volume: Path
    log_path: Path

    async def rpc(self, role: str = "developer", user: str = "alice") -> Rpc:
        headers = {"Authorization": f"token {self.token}", "X-IDE-Role": role, "X-IDE-User": user}
        ws = await websockets.connect(self.url, additional_headers=headers, max_size=None)
        return Rpc(ws)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_pod(
    volume: Path, warehouse: dict[str, Any], env_extra: dict[str, str] | None = None
) -> Pod:
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDE_", "JUPYTER"))}
    pod = PodEnv(root=volume, port=port, ip="127.0.0.1", user="alice", warehouse=warehouse,
                 token=token)  # fmt: skip
    env.update(pod.to_env(), **(env_extra or {}))
    log_path = volume.parent / f"pod-{port}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - the pod writes it until it stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "ide_server.workspace.launch"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the pod exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ide/health", timeout=1).status_code == 200:
                return Pod(proc, f"ws://127.0.0.1:{port}/ide", token, volume, log_path)
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the pod did not start")


def copy_demo_project(dest: Path) -> Path:
    shutil.copytree(DEMO_PROJECT, dest)
    return dest


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_demo_warehouse(tmp_path_factory.mktemp("demo-data"))


@pytest.fixture(scope="module")
def demo_pod(tmp_path_factory: pytest.TempPathFactory, demo_warehouse: Path) -> Iterator[Pod]:
    volume = copy_demo_project(tmp_path_factory.mktemp("pod") / "volume")
    # A profile committed to the repository is never read (the build would fail if it were).
    (volume / "profiles.yml").write_text(
        "demo:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n"
        "      host: 192.0.2.1\n      user: x\n      password: x\n      dbname: x\n"
        "      schema: x\n      port: 1\n      threads: 1\n"
    )
    pod = start_pod(volume, {"type": "duckdb", "path": str(demo_warehouse)})
    yield pod
    pod.stop()


class Notes:
    """Every notification of one socket, kept, so concurrent waits do not steal each other's."""

    def __init__(self, rpc: Rpc) -> None:
        self.rpc = rpc
        self.all: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while True:
            message = await self.rpc.notifications.get()
            self.all.append(message)
            self._arrived.set()

    async def call(self, method: str, params: Any = None, timeout: float = 120) -> Any:
        return await self.rpc.call(method, params, timeout)

    def of(self, key: str, value: str) -> list[dict[str, Any]]:
        return [m for m in self.all if (m.get("params") or {}).get(key) == value]

    async def first(
        self, key: str, value: str, methods: tuple[str, ...], timeout: float = 300
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.of(key, value):
                if message.get("method") in methods:
                    return message
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), max(0.01, deadline - time.monotonic()))

    async def close(self) -> None:
        self._task.cancel()
        await self.rpc.close()


@pytest.fixture
async def rpc(demo_pod: Pod) -> AsyncIterator[Notes]:
    notes = Notes(await demo_pod.rpc())
    yield notes
    await notes.close()


async def run_to_done(
    rpc: Notes, command: str, args: list[str] | None = None, timeout: float = 300
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run a dbt command; return its dbt/done and every notification of it."""
    invocation_id = new_id()
    started = await rpc.call(
        "dbt/run", {"invocation_id": invocation_id, "command": command, "args": args or []}
    )
    assert started == {"invocation_id": invocation_id}
    return await wait_done(rpc, invocation_id, timeout)


def new_id() -> str:
    return secrets.token_hex(8)


async def wait_done(
    rpc: Notes, invocation_id: str, timeout: float = 300
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    done = await rpc.first("invocation_id", invocation_id, ("dbt/done",), timeout)
    return done["params"], rpc.of("invocation_id", invocation_id)


async def preview_to_end(
    rpc: Notes, params: dict[str, Any], timeout: float = 120
) -> tuple[str, dict[str, Any], list[list[Any]], dict[str, Any]]:
    """Run a preview; return (final method, its params, rows, the query/columns params)."""
    query_id = new_id()
    started = await rpc.call("query/preview", {"query_id": query_id, **params})
    assert started == {"query_id": query_id}
    end = await rpc.first("query_id", query_id, ("query/done", "query/error"), timeout)
    rows = [
        r
        for m in rpc.of("query_id", query_id)
        if m["method"] == "query/rows"
        for r in m["params"]["rows"]
    ]
    columns = next(
        (m["params"] for m in rpc.of("query_id", query_id) if m["method"] == "query/columns"), {}
    )
    return end["method"], end["params"], rows, columns
