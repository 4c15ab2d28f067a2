"""The ``/ide`` WebSocket handler in a real jupyter-server, reached over its Unix socket.

The server is jupyter-server's own ``ServerApp`` with its token authentication, as in a
pod. Besides the pod's own methods, the workspace here has one family the tests hold open
(``hold/*``), to keep calls in flight for as long as a test needs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import types
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest
import websockets
from traitlets.config import Config
from websockets.asyncio.client import ClientConnection, unix_connect

from ide_server.workspace.config import PodConfig
from ide_server.workspace.methods import FAMILIES, Family, FamilyRegistry, build_registry
from ide_server.workspace.registry import MethodRegistry
from ide_server.workspace.rpc import dispatch
from ide_server.workspace.socket import MAX_CALLS_IN_FLIGHT, IdeSocketHandler
from ide_server.workspace.workspace import CallContext, Workspace
from tests.support.shapes import assert_shape

TOKEN = "socket-test-token-0123456789"
MAX_MESSAGE = 64 * 1024


class Held(TypedDict):
    order: int


@dataclass(frozen=True)
class HoldParams:
    order: int = 0


class Gate:
    """Calls of ``hold/*`` wait here until the test opens the gate."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.entered = 0
        self.finished: list[int] = []


def hold_methods(gate: Gate) -> MethodRegistry:
    methods = MethodRegistry()

    async def wait(params: HoldParams) -> dict[str, Any]:
        gate.entered += 1
        await gate.open.wait()
        gate.finished.append(params.order)
        return {"order": params.order}

    @methods.method("hold/read", HoldParams, result=Held)
    async def hold_read(ctx: Any, params: HoldParams) -> dict[str, Any]:
        return await wait(params)

    @methods.method("hold/write", HoldParams, result=Held, writes=True)
    async def hold_write(ctx: Any, params: HoldParams) -> dict[str, Any]:
        return await wait(params)

    return methods


@dataclass
class Pod:
    workspace: Workspace
    gate: Gate
    sock: str

    def connect(self, role: str | None = "developer", token: str = TOKEN) -> Any:
        headers = {"Authorization": f"token {token}"}
        if role is not None:
            headers["X-IDE-Role"] = role
        return unix_connect(
            self.sock, "ws://pod/ide", additional_headers=headers, max_size=4 * MAX_MESSAGE
        )


def _server_config(root: Path, sock: str) -> Config:
    c = Config()
    c.ServerApp.sock = sock
    c.ServerApp.root_dir = str(root)
    c.ServerApp.open_browser = False
    c.ServerApp.jpserver_extensions = {}
    c.ServerApp.allow_remote_access = True  # as in a pod: the Host header names the pod
    c.IdentityProvider.token = TOKEN
    c.ServerApp.tornado_settings = {"websocket_max_message_size": MAX_MESSAGE}
    return c


@pytest.fixture
async def pod(tmp_path: Path) -> AsyncIterator[Pod]:
    from jupyter_server.serverapp import ServerApp

    root = tmp_path / "volume"
    root.mkdir()
    sock = str(tmp_path / "pod.sock")
    app = ServerApp(config=_server_config(root, sock))
    app.initialize(argv=[], find_extensions=False)
    await _until(lambda: Path(sock).exists())  # bound from the event loop
    gate = Gate()
    registry = build_registry()
    registry.include(hold_methods(gate))
    config = PodConfig(session_id="t", root=root, max_message_bytes=MAX_MESSAGE)
    workspace = Workspace(config=config, registry=registry)
    app.web_app.add_handlers(".*$", [("/ide", IdeSocketHandler, {"workspace": workspace})])
    try:
        yield Pod(workspace, gate, sock)
    finally:
        gate.open.set()
        app.http_server.stop()
        await app._cleanup()


async def test_the_extension_serves_every_family_and_stops_its_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_server.serverapp import ServerApp

    root = tmp_path / "volume"
    root.mkdir()
    monkeypatch.setenv("IDE_POD_ROOT", str(root))
    monkeypatch.setenv("IDE_POD_WAREHOUSE", '{"type": "duckdb", "path": "/nowhere.duckdb"}')
    c = _server_config(root, str(tmp_path / "pod.sock"))
    c.ServerApp.jpserver_extensions = {"ide_server.workspace": True}
    app = ServerApp(config=c)
    app.initialize(argv=[], find_extensions=False)
    await _until(lambda: (tmp_path / "pod.sock").exists())  # bound from the event loop
    try:
        workspace = app.web_app.settings["ide_workspace"]
        pod = Pod(workspace, Gate(), str(tmp_path / "pod.sock"))
        async with pod.connect() as ws:
            status = await Tab(ws).call("session/status", {})
        assert status["result"]["methods"] == build_registry().names()
    finally:
        app.http_server.stop()
        await app._cleanup()
    # Stopped with the server: a preview can no longer start a kernel that would outlive it.
    member = Member()
    preview = {"jsonrpc": "2.0", "id": 1, "method": "query/preview"}
    preview["params"] = {"query_id": "q", "sql": "SELECT 1"}
    reply = await dispatch(workspace.registry, CallContext(workspace, member), json.dumps(preview))
    assert reply is not None and reply["error"]["code"] == -32007
    assert "stopping" in reply["error"]["message"]


@dataclass
class Member:
    user: str = "alice"
    role: str = "developer"

    async def notify(self, method: str, params: Any) -> None:
        pass


class Tab:
    """One browser tab's socket: send frames, read what comes back by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.answers: dict[Any, dict[str, Any]] = {}
        self.notes: list[dict[str, Any]] = []

    async def send(self, method: str, params: Any = None, request_id: Any = 1) -> None:
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.ws.send(json.dumps(message))

    async def answer(self, request_id: Any = 1, timeout: float = 10) -> dict[str, Any]:
        while request_id not in self.answers:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if "id" in message:
                self.answers[message["id"]] = message
            else:
                self.notes.append(message)
        return self.answers.pop(request_id)

    async def call(self, method: str, params: Any = None, request_id: Any = 1) -> dict[str, Any]:
        await self.send(method, params, request_id)
        reply = await self.answer(request_id)
        declared = build_registry().get(method)
        if "result" in reply and declared is not None:
            assert_shape(reply["result"], declared.result, method)
        return reply


async def test_bad_frames_are_answered_and_the_socket_stays_usable(pod: Pod) -> None:
    async with pod.connect() as ws:
        tab = Tab(ws)
        await ws.send("{not json")
        assert (await tab.answer(None))["error"]["code"] == -32700
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "nosuch/method"}))
        assert (await tab.answer(2))["error"]["code"] == -32601
        assert (await tab.call("session/heartbeat", {}, 3))["result"] == {"ok": True}


async def test_a_family_that_fails_to_import_is_answered_and_the_socket_stays_usable(
    pod: Pod, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = types.ModuleType("broken_family")  # no ``methods``: as if its import failed
    monkeypatch.setitem(sys.modules, "broken_family", broken)
    pod.workspace.registry = FamilyRegistry((Family("broken_family", ("git/",)), *FAMILIES))
    async with pod.connect() as ws:
        tab = Tab(ws)
        assert (await tab.call("git/status", {}, 1))["error"]["code"] == -32603
        assert (await tab.call("session/heartbeat", {}, 2))["result"] == {"ok": True}


async def test_an_oversized_frame_closes_that_socket_only(pod: Pod) -> None:
    async with pod.connect() as bystander, pod.connect() as sender:
        await sender.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "fs/write",
                    "params": {"path": "big.txt", "content": "x" * MAX_MESSAGE},
                }
            )
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(sender.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert not (pod.workspace.root / "big.txt").exists()
        # The other tab of the same pod carries on.
        assert (await Tab(bystander).call("session/heartbeat", {}))["result"] == {"ok": True}
    async with pod.connect() as again:
        assert (await Tab(again).call("session/heartbeat", {}))["result"] == {"ok": True}


async def test_calls_in_flight_are_bounded_and_the_bound_is_released(pod: Pod) -> None:
    async with pod.connect() as ws:
        tab = Tab(ws)
        for n in range(MAX_CALLS_IN_FLIGHT):
            await tab.send("hold/read", {"order": n}, request_id=n)
        await _until(lambda: pod.gate.entered == MAX_CALLS_IN_FLIGHT)
        # One more is answered at once, while the others still wait.
        refused = await tab.call("session/heartbeat", {}, request_id="extra")
        assert refused["error"]["code"] == -32007
        assert "in flight" in refused["error"]["message"]
        assert pod.gate.finished == []
        pod.gate.open.set()
        answers = [await tab.answer(n) for n in range(MAX_CALLS_IN_FLIGHT)]
        assert [a["result"]["order"] for a in answers] == list(range(MAX_CALLS_IN_FLIGHT))
        assert (await tab.call("session/heartbeat", {}, request_id="after"))["result"]["ok"]


async def test_the_bound_is_per_tab(pod: Pod) -> None:
    async with pod.connect() as busy, pod.connect() as other:
        for n in range(MAX_CALLS_IN_FLIGHT):
            await Tab(busy).send("hold/read", {"order": n}, request_id=n)
        await _until(lambda: pod.gate.entered == MAX_CALLS_IN_FLIGHT)
        assert (await Tab(other).call("session/heartbeat", {}))["result"] == {"ok": True}


async def test_a_slow_write_holds_later_writes_not_reads(pod: Pod) -> None:
    async with pod.connect() as ws:
        tab = Tab(ws)
        await tab.send("hold/write", {"order": 1}, request_id=1)
        await _until(lambda: pod.gate.entered == 1)
        await tab.send("fs/write", {"path": "later.txt", "content": "2"}, request_id=2)
        # A read answers while the write before it waits...
        assert (await tab.call("fs/list", {}, request_id=3))["result"]["entries"] == []
        # ...but the write sent after it does not overtake it.
        await asyncio.sleep(0.2)
        assert not (pod.workspace.root / "later.txt").exists()
        pod.gate.open.set()
        assert (await tab.answer(1))["result"] == {"order": 1}
        assert "result" in await tab.answer(2)
        assert (pod.workspace.root / "later.txt").read_text() == "2"


@pytest.mark.parametrize("role", [None, "owner", "ADMIN", ""])
async def test_a_missing_or_unknown_role_is_read_only(pod: Pod, role: str | None) -> None:
    async with pod.connect(role=role) as ws:
        tab = Tab(ws)
        reply = await tab.call("fs/write", {"path": "x.txt", "content": "x"})
        assert reply["error"]["code"] == -32001
        status = await tab.call("session/status", {}, request_id=2)
        assert status["result"]["role"] == "read-only"
    assert not (pod.workspace.root / "x.txt").exists()


async def test_a_wrong_token_is_refused(pod: Pod) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with pod.connect(token="wrong"):
            pass
    assert refused.value.response.status_code == 403


async def test_closed_tabs_leave_the_workspace_and_get_no_broadcasts(pod: Pod) -> None:
    async with pod.connect() as writer:
        async with pod.connect() as watcher:
            await _until(lambda: len(pod.workspace.clients) == 2)
            await Tab(writer).call("fs/write", {"path": "a.txt", "content": "a"})
            note = json.loads(await asyncio.wait_for(watcher.recv(), 10))
            assert note == {
                "jsonrpc": "2.0",
                "method": "fs/changed",
                "params": {"path": "a.txt", "kind": "write"},
            }
        await _until(lambda: len(pod.workspace.clients) == 1)
        reply = await Tab(writer).call("fs/write", {"path": "b.txt", "content": "b"}, 2)
        assert "result" in reply


async def test_undeclared_notifications_are_logged(
    pod: Pod, caplog: pytest.LogCaptureFixture, undeclared_allowed: None
) -> None:
    async with pod.connect() as ws:
        await _until(lambda: len(pod.workspace.clients) == 1)
        (client,) = pod.workspace.clients
        with caplog.at_level(logging.ERROR):
            await client.notify("nosuch/pushed", {"x": 1})
            await client.notify("fs/changed", {"path": "p", "kind": "write"})
        assert json.loads(await ws.recv())["method"] == "nosuch/pushed"
        assert "nosuch/pushed is not declared" in caplog.text
        assert "fs/changed" not in caplog.text


async def _until(condition: Any, timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)
