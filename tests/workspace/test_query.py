"""``query/*`` through the real dispatcher, the real SQL kernel and a real DuckDB warehouse.

The kernel manager is jupyter-server's own AsyncMappingKernelManager, as in the pod; the
only stand-in is the browser tab, a client that records the notifications it receives.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

from ide_server.workspace import query
from ide_server.workspace.config import PodConfig
from ide_server.workspace.rpc import MethodRegistry, dispatch
from ide_server.workspace.workspace import CallContext, Workspace
from tests.support.shapes import assert_shape

HUGE_CROSS_JOIN = "SELECT sum(a.range * b.range) FROM range(1000000000) AS a, range(1000) AS b"
_ids = itertools.count(1)


def new_id() -> str:
    """A query_id as the browser chooses it."""
    return f"q-{next(_ids)}"


class RecordingClient:
    """A browser tab that records every notification sent to it."""

    def __init__(self, user: str = "alice", role: str = "developer") -> None:
        self.user, self.role = user, role
        self.notes: list[tuple[str, dict[str, Any]]] = []
        self._arrived = asyncio.Event()

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        declared = query.methods.get_notification(method)
        assert declared is not None, f"{method} is not declared"
        assert_shape(dict(params), declared.params, method)  # what the frontend's types say
        self.notes.append((method, dict(params)))
        self._arrived.set()

    async def notify_encoded(self, method: str, params: str) -> None:
        await self.notify(method, json.loads(params))  # what the browser would parse

    def of(self, query_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [(m, p) for m, p in self.notes if p.get("query_id") == query_id]

    async def finished(self, query_id: str, timeout: float = 60) -> tuple[str, dict[str, Any]]:
        """Wait for query/done or query/error of ``query_id`` and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for method, params in self.of(query_id):
                if method in ("query/done", "query/error"):
                    return method, params
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), max(0.01, deadline - time.monotonic()))


@pytest.fixture(scope="module")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE nums AS SELECT range::INTEGER AS n FROM range(1, 2001)")
    return path


@pytest.fixture(scope="module")
async def pod(
    tmp_path_factory: pytest.TempPathFactory, warehouse_path: Path
) -> AsyncIterator[Workspace]:
    root = tmp_path_factory.mktemp("volume")
    config = PodConfig(
        session_id="test", root=root, warehouse={"type": "duckdb", "path": str(warehouse_path)}
    )
    manager = AsyncMappingKernelManager(root_dir=str(root), kernel_spec_manager=KernelSpecManager())
    registry = MethodRegistry()
    registry.include(query.methods)
    workspace = Workspace(config=config, registry=registry, kernel_manager=manager)
    yield workspace
    await workspace.shutdown()
    await manager.shutdown_all(now=True)


async def call(
    workspace: Workspace, client: RecordingClient, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    message = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    reply = await dispatch(workspace.registry, CallContext(workspace, client), message)
    assert reply is not None
    return reply


async def start(workspace: Workspace, client: RecordingClient, **params: Any) -> str:
    params.setdefault("query_id", new_id())
    reply = await call(workspace, client, "query/preview", params)
    assert reply.get("result") == {"query_id": params["query_id"]}, reply
    return str(params["query_id"])


async def test_preview_streams_to_the_calling_client_only(pod: Workspace) -> None:
    alice, bob = RecordingClient("alice"), RecordingClient("bob")
    pod.clients |= {alice, bob}
    query_id = await start(pod, alice, sql="SELECT n FROM nums ORDER BY n", limit=250)
    method, done = await alice.finished(query_id)
    assert method == "query/done"
    # Columns first, done last, the rows between in one to three batches (rows read before
    # the previous batch went out travel together).
    methods = [m for m, _ in alice.of(query_id)]
    assert methods[0] == "query/columns" and methods[-1] == "query/done"
    assert 1 <= len(methods[1:-1]) <= 3 and set(methods[1:-1]) == {"query/rows"}
    columns = alice.of(query_id)[0][1]
    assert columns == {"query_id": query_id, "columns": [{"name": "n", "type": "INTEGER"}]}
    rows = [r for m, p in alice.of(query_id) if m == "query/rows" for r in p["rows"]]
    assert rows == [[n] for n in range(1, 251)]
    assert done["row_count"] == 250 and done["truncated"] is True and done["elapsed_ms"] >= 0
    assert bob.notes == []
    pod.clients -= {alice, bob}


async def test_default_limit_and_dialect(pod: Workspace) -> None:
    client = RecordingClient()
    query_id = await start(
        pod, client, sql="SELECT TOP 3 n FROM nums ORDER BY n DESC", dialect="snowflake"
    )
    _, done = await client.finished(query_id)
    rows = [r for m, p in client.of(query_id) if m == "query/rows" for r in p["rows"]]
    assert rows == [[2000], [1999], [1998]] and done["truncated"] is False
    query_id = await start(pod, client, sql="SELECT n FROM nums")
    _, done = await client.finished(query_id)
    assert done["row_count"] == 500 and done["truncated"] is True


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("DROP TABLE nums", "refused: DROP TABLE"),
        ("SELECT 1; DELETE FROM nums", "exactly one statement"),
        ("ATTACH '/etc/passwd' AS x", "refused: ATTACH"),
    ],
)
async def test_refused_sql_is_an_rpc_error_and_starts_nothing(
    tmp_path: Path, warehouse_path: Path, sql: str, named: str
) -> None:
    manager = AsyncMappingKernelManager(
        root_dir=str(tmp_path), kernel_spec_manager=KernelSpecManager()
    )
    config = PodConfig(
        session_id="t", root=tmp_path, warehouse={"type": "duckdb", "path": str(warehouse_path)}
    )
    workspace = Workspace(config=config, registry=query.methods, kernel_manager=manager)
    client = RecordingClient()
    reply = await call(workspace, client, "query/preview", {"query_id": new_id(), "sql": sql})
    assert reply["error"]["code"] == query.SQL_REFUSED
    assert named in reply["error"]["message"]
    assert manager.list_kernel_ids() == [] and client.notes == []
    assert not workspace.queries.busy()


async def test_syntax_error_has_a_position(pod: Workspace) -> None:
    reply = await call(
        pod,
        RecordingClient(),
        "query/preview",
        {"query_id": new_id(), "sql": "SELECT n\nFROM nums WHERE ("},
    )
    assert reply["error"]["code"] == query.SQL_REFUSED
    assert reply["error"]["data"] == {"position": {"line": 2, "column": 17}}


@pytest.mark.parametrize(
    "params",
    [
        {"query_id": "q", "sql": "SELECT 1", "limit": 10_001},
        {"query_id": "q", "sql": "SELECT 1", "limit": 0},
        {"query_id": "q", "sql": "SELECT 1", "dialect": "nosuch"},
        {"sql": "SELECT 1"},
        {"query_id": "", "sql": "SELECT 1"},
        {"query_id": "x" * 65, "sql": "SELECT 1"},
        {"query_id": "../etc", "sql": "SELECT 1"},
        {"query_id": 7, "sql": "SELECT 1"},
        {},
    ],
)
async def test_bad_params(pod: Workspace, params: dict[str, Any]) -> None:
    reply = await call(pod, RecordingClient(), "query/preview", params)
    assert reply["error"]["code"] == -32602


async def test_no_warehouse_configured(tmp_path: Path) -> None:
    config = PodConfig(session_id="t", root=tmp_path)
    workspace = Workspace(config=config, registry=query.methods, kernel_manager=None)
    reply = await call(
        workspace, RecordingClient(), "query/preview", {"query_id": "q", "sql": "SELECT 1"}
    )
    assert reply["error"] == {
        "code": -32043,
        "message": "this project has no warehouse connection; an admin sets it in the"
        " project's settings",
    }


async def test_warehouse_error_reaches_the_client_with_a_position(pod: Workspace) -> None:
    client = RecordingClient()
    query_id = await start(pod, client, sql="SELECT n\nFROM nums\nWHERE nosuch = 1")
    method, error = await client.finished(query_id)
    assert method == "query/error" and "nosuch" in error["message"]
    assert error["position"] == {"line": 3, "column": 7}


async def test_cancel_is_fast_and_the_next_preview_works(pod: Workspace) -> None:
    client = RecordingClient()
    pod.clients.add(client)
    query_id = await start(pod, client, sql=HUGE_CROSS_JOIN)
    await asyncio.sleep(1.0)
    service = pod.queries
    assert service.busy() and pod.is_busy(), client.notes
    started = time.monotonic()
    reply = await call(pod, client, "query/cancel", {"query_id": query_id})
    assert reply["result"] == {"query_id": query_id, "cancelled": True}
    method, error = await client.finished(query_id, timeout=5)
    assert time.monotonic() - started < 1.0
    assert method == "query/error" and error["cancelled"] is True
    assert not service.busy()
    next_id = await start(pod, client, sql="SELECT 42 AS answer")
    assert (await client.finished(next_id))[0] == "query/done"
    reply = await call(pod, client, "query/cancel", {"query_id": next_id})
    assert reply["result"]["cancelled"] is False  # already finished: nothing to cancel
    pod.clients.discard(client)


async def test_waiting_preview_can_be_cancelled(pod: Workspace) -> None:
    client = RecordingClient()
    pod.clients.add(client)
    long_id = await start(pod, client, sql=HUGE_CROSS_JOIN)
    waiting_id = await start(pod, client, sql="SELECT 1")
    await asyncio.sleep(0.5)
    await call(pod, client, "query/cancel", {"query_id": waiting_id})
    await call(pod, client, "query/cancel", {"query_id": long_id})
    assert (await client.finished(waiting_id, timeout=5))[1]["cancelled"] is True, client.notes
    assert (await client.finished(long_id, timeout=5))[1]["cancelled"] is True, client.notes
    assert [m for m, _ in client.of(waiting_id)] == ["query/error"]
    pod.clients.discard(client)


async def test_concurrent_previews_each_get_their_rows(pod: Workspace) -> None:
    clients = [RecordingClient(f"user{i}") for i in range(4)]
    ids = [
        await start(pod, c, sql=f"SELECT {i} AS i, n FROM nums WHERE n <= {i + 1}")
        for i, c in enumerate(clients)
    ]
    for i, (client, query_id) in enumerate(zip(clients, ids, strict=True)):
        _, done = await client.finished(query_id)
        assert done["row_count"] == i + 1
        assert all(p["query_id"] == query_id for _, p in client.notes)


async def test_a_running_query_id_cannot_be_reused_by_its_client(pod: Workspace) -> None:
    client = RecordingClient()
    pod.clients.add(client)
    query_id = await start(pod, client, sql=HUGE_CROSS_JOIN)
    reply = await call(pod, client, "query/preview", {"query_id": query_id, "sql": "SELECT 1"})
    assert reply["error"]["code"] == -32004
    assert query_id in reply["error"]["message"]
    await call(pod, client, "query/cancel", {"query_id": query_id})
    assert (await client.finished(query_id, timeout=5))[1]["cancelled"] is True
    # Finished: the id is free again, and its notifications are the new query's.
    client.notes.clear()
    await start(pod, client, query_id=query_id, sql="SELECT 5 AS five")
    method, _ = await client.finished(query_id)
    assert method == "query/done", client.notes
    pod.clients.discard(client)


async def test_two_tabs_may_choose_the_same_id_without_touching_each_other(
    pod: Workspace,
) -> None:
    alice, bob = RecordingClient("alice"), RecordingClient("bob")
    pod.clients |= {alice, bob}
    await start(pod, alice, query_id="same", sql=HUGE_CROSS_JOIN)
    await start(pod, bob, query_id="same", sql="SELECT 7 AS seven")
    # Bob's cancel names his own "same" (waiting behind Alice's): hers keeps running.
    reply = await call(pod, bob, "query/cancel", {"query_id": "same"})
    assert reply["result"]["cancelled"] is True
    await asyncio.sleep(0.5)
    assert pod.queries.busy()
    assert [m for m, _ in alice.of("same") if m in ("query/done", "query/error")] == []
    await call(pod, alice, "query/cancel", {"query_id": "same"})
    assert (await alice.finished("same", timeout=5))[1]["cancelled"] is True
    assert (await bob.finished("same", timeout=5))[1]["cancelled"] is True
    assert [m for m, _ in bob.of("same")] == ["query/error"]
    pod.clients -= {alice, bob}


async def test_disconnected_caller_cancels_its_preview(pod: Workspace) -> None:
    client = RecordingClient()
    pod.clients.add(client)
    query_id = await start(pod, client, sql=HUGE_CROSS_JOIN)
    await asyncio.sleep(0.5)
    pod.clients.discard(client)  # the tab closed
    _, error = await client.finished(query_id, timeout=5)
    assert error["cancelled"] is True


def _kernel_pid(pod: Workspace) -> int:
    service = pod.queries
    kernel = pod.kernel_manager.get_kernel(service._kernel_id)
    return kernel.provisioner.pid


async def test_killed_kernel_is_restarted_on_the_next_preview(pod: Workspace) -> None:
    client = RecordingClient()
    first = await start(pod, client, sql="SELECT 1")
    await client.finished(first)
    os.kill(_kernel_pid(pod), signal.SIGKILL)
    await asyncio.sleep(0.5)
    second = await start(pod, client, sql="SELECT 2 AS two")
    method, _ = await client.finished(second)
    assert method == "query/done"


async def test_kernel_dying_mid_preview_is_reported(pod: Workspace) -> None:
    client = RecordingClient()
    pod.clients.add(client)
    warm = await start(pod, client, sql="SELECT 1")
    await client.finished(warm)
    query_id = await start(pod, client, sql=HUGE_CROSS_JOIN)
    await asyncio.sleep(0.5)
    os.kill(_kernel_pid(pod), signal.SIGKILL)
    method, error = await client.finished(query_id, timeout=10)
    assert method == "query/error" and "kernel" in error["message"]
    after = await start(pod, client, sql="SELECT 3")
    assert (await client.finished(after))[0] == "query/done"
    pod.clients.discard(client)


def _files_containing(
    needle: bytes, roots: list[Path], since: float, skip: set[Path]
) -> list[Path]:
    found = []
    for root in roots:
        for dirpath, _, filenames in os.walk(root):
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    if path in skip or path.is_symlink():
                        continue
                    stat = path.stat()
                    if stat.st_mtime < since or stat.st_size > 50_000_000:
                        continue
                    if needle in path.read_bytes():
                        found.append(path)
                except OSError:
                    continue  # vanished or unreadable (another test's file)
    return found


async def test_results_live_in_memory_only(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A sentinel that only the warehouse holds is found nowhere after it was previewed."""
    import logging
    import secrets
    import tempfile

    started = time.time() - 1
    sentinel = f"sentinel-{secrets.token_hex(12)}"
    volume, data_dir, home = tmp_path / "volume", tmp_path / "data", tmp_path / "home"
    for directory in (volume, data_dir, home):
        directory.mkdir()
    warehouse = data_dir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE TABLE secrets AS SELECT ? AS secret, 1 AS n", [sentinel])
    # The kernel's home, Jupyter and IPython directories are ours to search afterwards.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(home / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("IPYTHONDIR", str(home / "ipython"))
    caplog.set_level(logging.DEBUG)

    config = PodConfig(
        session_id="m", root=volume, warehouse={"type": "duckdb", "path": str(warehouse)}
    )
    manager = AsyncMappingKernelManager(
        root_dir=str(volume), kernel_spec_manager=KernelSpecManager()
    )
    workspace = Workspace(config=config, registry=query.methods, kernel_manager=manager)
    client = RecordingClient()
    workspace.clients.add(client)
    try:
        shown = await start(workspace, client, sql="SELECT secret, n FROM secrets")
        assert (await client.finished(shown))[0] == "query/done"
        failed = await start(workspace, client, sql="SELECT CAST(secret AS INTEGER) FROM secrets")
        assert (await client.finished(failed))[0] == "query/error"
        # The test means something only if the sentinel did travel to the client.
        assert sentinel in json.dumps(client.notes)
    finally:
        await workspace.queries.shutdown()
        await manager.shutdown_all(now=True)

    needle = sentinel.encode()
    out, err = capfd.readouterr()
    assert sentinel not in out + err, "the sentinel is in the pod's or the kernel's output"
    assert sentinel not in caplog.text, "the sentinel is in a log record"
    skip = {warehouse, warehouse.with_name(warehouse.name + ".wal")}
    roots = [volume, data_dir, home, Path(tempfile.gettempdir())]
    assert _files_containing(needle, roots, started, skip) == []
