"""A hostile repository against a real pod: nothing of it runs, across a restart and previews.

The pod is the real launcher (``python -m ide_server.workspace.launch``), its SQL kernel
the real one, the remote a real bare repository. Each hostile file, if anything ever ran
it, would create a marker file; the test previews a query before and after a kernel crash
and a pod restart, then checks that no marker exists.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psutil
import pytest
import websockets

from ide_server.podenv import PodEnv
from ide_server.workspace.git import errors
from tests.support.gateway import free_port

from .conftest import make_remote
from .hostile import Node, add_commit, reserved_cases


def _python_marker(marker: Path) -> bytes:
    return f"open({str(marker)!r}, 'w').write('ran')\n".encode()


def configuration_attacks(markers: Path) -> list[Node]:
    """Ordinary project files that would run code if the pod read them."""

    def kernelspec(name: str) -> bytes:
        argv = ["/bin/sh", "-c", f"touch {markers / name}"]
        return json.dumps({"argv": argv, "display_name": "SQL", "language": "sql"}).encode()

    json_config = {
        "KernelSpecManager": {"kernel_dirs": ["kernels"], "allowed_kernelspecs": []},
        "ServerApp": {"jpserver_extensions": {"evil_extension": True}},
    }
    return [
        Node("jupyter_server_config.py", content=_python_marker(markers / "server-config")),
        Node("jupyter_config.py", content=_python_marker(markers / "jupyter-config")),
        Node("jupyter_server_config.json", content=json.dumps(json_config).encode()),
        Node(".jupyter/jupyter_server_config.py", content=_python_marker(markers / "dot-jupyter")),
        Node("etc/jupyter/jupyter_server_config.py", content=_python_marker(markers / "etc")),
        Node("kernels/ide-sql/kernel.json", content=kernelspec("kernels-dir")),
        Node("share/jupyter/kernels/ide-sql/kernel.json", content=kernelspec("share")),
        Node("kernels/__init__.py", content=_python_marker(markers / "kernels-package")),
        Node("kernels/sql/__init__.py", content=_python_marker(markers / "kernels-sql")),
        Node("kernels/sql/__main__.py", content=_python_marker(markers / "kernels-main")),
        Node("evil_extension.py", content=_python_marker(markers / "extension")),
        Node("sitecustomize.py", content=_python_marker(markers / "sitecustomize")),
        Node("usercustomize.py", content=_python_marker(markers / "usercustomize")),
    ]


class Pod:
    """One run of the real pod launcher on ``volume``."""

    def __init__(self, volume: Path, run_dir: Path, git_url: str, warehouse: Path) -> None:
        self.port, self.token = free_port(), secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IDE_", "JUPYTER"))}
        pod = PodEnv(
            root=volume,
            port=self.port,
            ip="127.0.0.1",
            git_url=git_url,
            protect_default_branch=False,
            warehouse={"type": "duckdb", "path": str(warehouse)},
            token=self.token,
        )
        env.update(pod.to_env(), JUPYTER_RUNTIME_DIR=str(run_dir))
        self.log = volume.parent / f"pod-{self.port}.log"
        volume.mkdir(parents=True, exist_ok=True)
        # Started *in the project folder*, the harshest place: ``-P`` keeps only the
        # launcher itself from importing the checkout's modules; its children must be
        # kept from it by the pod.
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-m", "ide_server.workspace.launch"],
                env=env,
                cwd=str(volume),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log.read_text()
                try:
                    r = await client.get(f"http://127.0.0.1:{self.port}/ide/health", timeout=1)
                    if r.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"the pod did not start: {self.log.read_text()}")

    def stop(self) -> None:
        for child in psutil.Process(self.process.pid).children(recursive=True):
            child.kill()
        self.process.terminate()
        self.process.wait(timeout=30)

    def kill_kernels(self) -> int:
        kernels = [
            p
            for p in psutil.Process(self.process.pid).children(recursive=True)
            if "kernels.sql" in " ".join(p.cmdline())
        ]
        for kernel in kernels:
            kernel.send_signal(signal.SIGKILL)
        psutil.wait_procs(kernels, timeout=10)
        return len(kernels)


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws, self.next_id = ws, 0

    async def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        await self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(await asyncio.wait_for(self.ws.recv(), 120))
            if answer.get("id") == self.next_id:
                return answer

    async def preview(self, sql: str) -> list[Any]:
        # The client names the preview, so its rows may come before the answer: read both.
        self.next_id += 1
        query_id = f"q{self.next_id}"
        params = {"query_id": query_id, "sql": sql}
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": "query/preview"}
        await self.ws.send(json.dumps({**message, "params": params}))
        rows: list[Any] = []
        while True:
            note = json.loads(await asyncio.wait_for(self.ws.recv(), 120))
            if note.get("id") == self.next_id:
                assert "result" in note, f"the preview was refused: {note}"
                continue
            params = note.get("params") or {}
            if params.get("query_id") != query_id:
                continue
            if note["method"] == "query/rows":
                rows.extend(params["rows"])
            elif note["method"] == "query/error":
                raise AssertionError(f"the preview failed: {params}")
            elif note["method"] == "query/done":
                return rows


@pytest.fixture
async def socket_to() -> AsyncIterator[Any]:
    opened: list[Any] = []

    async def connect(pod: Pod) -> Socket:
        headers = {"Authorization": f"token {pod.token}", "X-IDE-Role": "developer"}
        ws = await websockets.connect(f"ws://127.0.0.1:{pod.port}/ide", additional_headers=headers)
        opened.append(ws)
        return Socket(ws)

    yield connect
    for ws in opened:
        await ws.close()


async def test_a_hostile_repository_runs_nothing_in_a_real_pod(tmp_path: Path, socket_to) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    bare = make_remote(tmp_path / "remotes")
    add_commit(bare, "main", configuration_attacks(markers), message="tooling")
    for name, nodes in reserved_cases(markers / "reserved").items():
        add_commit(bare, name, nodes)
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE TABLE answers AS SELECT 42 AS answer")
    volume = tmp_path / "volume" / "project"

    pod = Pod(volume, tmp_path / "run-1", bare.as_uri(), warehouse)
    try:
        await pod.wait_ready()
        assert (volume / "jupyter_server_config.py").exists()  # the clone took the files
        rpc = await socket_to(pod)
        assert await rpc.preview("SELECT answer FROM answers") == [[42]]
        await rpc.call("git/fetch")
        await rpc.call("git/create_branch", {"name": "alice-work"})
        for branch in reserved_cases(markers / "reserved"):
            refused = await rpc.call("git/checkout", {"branch": branch})
            assert refused["error"]["code"] == errors.RESERVED_PATHS, refused
            refused = await rpc.call("git/pull", {"from": branch})
            assert refused["error"]["code"] == errors.RESERVED_PATHS, refused
        # A crashed kernel is started again from the kernelspec: still the pod's own.
        assert pod.kill_kernels() == 1
        assert await rpc.preview("SELECT answer + 1 FROM answers") == [[43]]
    finally:
        pod.stop()

    pod = Pod(volume, tmp_path / "run-2", bare.as_uri(), warehouse)
    try:
        await pod.wait_ready()
        rpc = await socket_to(pod)
        assert await rpc.preview("SELECT answer FROM answers") == [[42]]
        status = await rpc.call("git/status")
        assert status["result"]["branch"] == "alice-work"
    finally:
        pod.stop()
    assert sorted(p.name for p in markers.iterdir()) == []
    assert not (volume / ".ide" / "kernels").exists(), "the kernelspec belongs outside the volume"
