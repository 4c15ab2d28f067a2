"""The JSON-RPC dispatcher and the method registry, without a socket.

Each test sends what a broken or hostile client could send and checks the answer a
browser tab relies on: a JSON-RPC error with the right code, nothing leaked, the
handler not run when it must not be, and the connection's next call unaffected.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pytest

from ide_server.workspace.errors import INVALID_PATH, NOT_FOUND, RpcError
from ide_server.workspace.registry import MethodRegistry, NoParams
from ide_server.workspace.rpc import dispatch


class Echoed(TypedDict):
    text: str
    times: int


@dataclass(frozen=True)
class EchoParams:
    text: str
    times: int = 1
    ratio: float | None = None
    tags: list[str] | None = None

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ValueError("times must be at least 1")


class Done(TypedDict):
    done: bool


@dataclass
class Recorder:
    """The calling tab and the handlers' side effects."""

    user: str = "alice"
    role: str = "developer"
    calls: list[str] = field(default_factory=list)

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        pass


@dataclass
class Ctx:
    client: Recorder
    workspace: Any = None

    async def broadcast(
        self, method: str, params: Mapping[str, Any], *, include_self: bool = False
    ) -> None:
        pass


SECRET_DETAIL = "password=hunter2 at /srv/internal/path"


def build() -> MethodRegistry:
    methods = MethodRegistry()

    @methods.method("t/echo", EchoParams, result=Echoed)
    async def echo(ctx: Ctx, params: EchoParams) -> dict[str, Any]:
        ctx.client.calls.append("t/echo")
        return {"text": params.text * params.times, "times": params.times}

    @methods.method("t/write", NoParams, result=Done, writes=True)
    async def write(ctx: Ctx, params: NoParams) -> dict[str, Any]:
        ctx.client.calls.append("t/write")
        return {"done": True}

    @methods.method("t/crash", NoParams, result=Done)
    async def crash(ctx: Ctx, params: NoParams) -> dict[str, Any]:
        ctx.client.calls.append("t/crash")
        raise RuntimeError(SECRET_DETAIL)

    @methods.method("t/missing", NoParams, result=Done, errors=(NOT_FOUND,))
    async def missing(ctx: Ctx, params: NoParams) -> dict[str, Any]:
        raise RpcError(NOT_FOUND, "no such thing", {"what": "thing"})

    @methods.method("t/undeclared", NoParams, result=Done)
    async def undeclared(ctx: Ctx, params: NoParams) -> dict[str, Any]:
        raise RpcError(INVALID_PATH, "bad path")

    return methods


async def send(frame: str | bytes, role: str = "developer") -> tuple[dict | None, Recorder]:
    client = Recorder(role=role)
    return await dispatch(build(), Ctx(client), frame), client


def request(method: str, params: Any = None, **extra: Any) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method, **extra}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


async def test_a_request_is_answered_with_its_id_and_result() -> None:
    reply, client = await send(request("t/echo", {"text": "ab", "times": 2}))
    assert reply == {"jsonrpc": "2.0", "id": 7, "result": {"text": "abab", "times": 2}}
    assert client.calls == ["t/echo"]


@pytest.mark.parametrize("frame", ["{", "not json", b"\xff\xfe", "[" * 100_000])
async def test_malformed_json_is_a_parse_error(frame: str | bytes) -> None:
    reply, _ = await send(frame)
    assert reply is not None
    assert reply["error"]["code"] == -32700 and reply["id"] is None


@pytest.mark.parametrize(
    "message",
    [
        [],
        [{"jsonrpc": "2.0", "id": 1, "method": "t/echo"}],  # batches are not supported
        "t/echo",
        42,
        {"id": 1, "method": "t/echo"},  # no jsonrpc member
        {"jsonrpc": "1.0", "id": 1, "method": "t/echo"},
    ],
)
async def test_not_a_request_object_is_invalid_request(message: Any) -> None:
    reply, client = await send(json.dumps(message))
    assert reply is not None and reply["error"]["code"] == -32600
    assert client.calls == []


async def test_a_method_that_is_not_a_string_keeps_the_id() -> None:
    reply, _ = await send(json.dumps({"jsonrpc": "2.0", "id": "x1", "method": ["t/echo"]}))
    assert reply is not None
    assert reply["error"]["code"] == -32600 and reply["id"] == "x1"


async def test_unknown_method() -> None:
    reply, _ = await send(request("t/nosuch", {}))
    assert reply is not None
    assert reply["error"]["code"] == -32601 and "t/nosuch" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "missing param: text"),
        ({"text": "a", "colour": "red"}, "unknown param(s): colour"),
        ({"text": 5}, "param text has the wrong type"),
        ({"text": "a", "times": True}, "param times"),  # a bool is not an int
        ({"text": "a", "times": 1.5}, "param times"),
        ({"text": "a", "tags": ["x", 1]}, "param tags"),
        ({"text": "a", "times": 0}, "times must be at least 1"),  # the dataclass's own check
        ([1, 2], "params must be an object"),
        ("text", "params must be an object"),
    ],
)
async def test_bad_params_are_refused_before_the_handler_runs(params: Any, named: str) -> None:
    reply, client = await send(request("t/echo", params))
    assert reply is not None and reply["error"]["code"] == -32602, reply
    assert named in reply["error"]["message"]
    assert client.calls == []


async def test_optional_params_take_their_json_types() -> None:
    reply, _ = await send(request("t/echo", {"text": "a", "ratio": 1, "tags": [], "times": 3}))
    assert reply is not None and reply["result"] == {"text": "aaa", "times": 3}
    reply, _ = await send(request("t/echo", {"text": "a", "ratio": None}))
    assert reply is not None and "result" in reply


async def test_absent_params_are_an_empty_object() -> None:
    reply, _ = await send(request("t/write"))
    assert reply is not None and reply["result"] == {"done": True}


async def test_a_crashing_handler_answers_internal_error_without_its_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reply, client = await send(request("t/crash", {}))
    assert reply is not None and reply["error"]["code"] == -32603
    assert SECRET_DETAIL not in json.dumps(reply)
    assert "pod log" in reply["error"]["message"]
    assert client.calls == ["t/crash"]
    assert SECRET_DETAIL in caplog.text  # the operator still finds it


async def test_an_rpc_error_passes_through_with_its_data() -> None:
    reply, _ = await send(request("t/missing", {}))
    assert reply is not None
    assert reply["error"] == {"code": -32003, "message": "no such thing", "data": {"what": "thing"}}


async def test_an_undeclared_error_code_is_answered_and_logged(
    caplog: pytest.LogCaptureFixture, undeclared_allowed: None
) -> None:
    with caplog.at_level(logging.ERROR):
        reply, _ = await send(request("t/undeclared", {}))
    assert reply is not None and reply["error"]["code"] == INVALID_PATH
    assert "t/undeclared answered error -32002" in caplog.text


async def test_writes_are_refused_for_read_only_and_the_handler_never_runs() -> None:
    reply, client = await send(request("t/write", {}), role="read-only")
    assert reply is not None and reply["error"]["code"] == -32001
    assert "read-only" in reply["error"]["message"]
    assert client.calls == []
    reply, client = await send(request("t/echo", {"text": "r"}), role="read-only")
    assert reply is not None and reply["result"]["text"] == "r"  # reads are allowed


@pytest.mark.parametrize("role", ["developer", "admin"])
async def test_members_who_may_write_do(role: str) -> None:
    reply, client = await send(request("t/write", {}), role=role)
    assert reply is not None and reply["result"] == {"done": True}
    assert client.calls == ["t/write"]


async def test_writes_are_refused_before_params_are_checked() -> None:
    # A read-only member learns nothing about a write method's params.
    reply, _ = await send(request("t/write", {"nosuch": 1}), role="read-only")
    assert reply is not None and reply["error"]["code"] == -32001


async def test_a_notification_runs_but_is_never_answered() -> None:
    note = json.dumps({"jsonrpc": "2.0", "method": "t/echo", "params": {"text": "n"}})
    reply, client = await send(note)
    assert reply is None and client.calls == ["t/echo"]
    for bad in (
        {"jsonrpc": "2.0", "method": "t/nosuch"},
        {"jsonrpc": "2.0", "method": "t/echo", "params": {}},
        {"jsonrpc": "2.0", "method": "t/crash"},
        {"jsonrpc": "2.0", "method": "t/write"},
    ):
        reply, _ = await send(json.dumps(bad), role="read-only")
        assert reply is None, bad


async def test_a_null_id_is_a_request_and_is_answered() -> None:
    reply, _ = await send(json.dumps({"jsonrpc": "2.0", "id": None, "method": "t/nosuch"}))
    assert reply is not None and reply["id"] is None and reply["error"]["code"] == -32601


def test_the_registry_refuses_what_it_could_not_describe() -> None:
    methods = MethodRegistry()
    with pytest.raises(TypeError, match="params of x/a must be a dataclass"):
        methods.method("x/a", dict, result=Done)
    with pytest.raises(TypeError, match="result of x/a must be a TypedDict"):
        methods.method("x/a", NoParams, result=dict)
    with pytest.raises(ValueError, match="undeclared error codes"):
        methods.method("x/a", NoParams, result=Done, errors=(-32099,))
    with pytest.raises(TypeError, match="must be a TypedDict"):
        methods.notification("x/pushed", NoParams)


def test_a_name_is_registered_once_across_families() -> None:
    one, two = MethodRegistry(), MethodRegistry()

    async def handler(ctx: Any, params: Any) -> dict[str, Any]:
        return {"done": True}

    one.method("x/a", NoParams, result=Done)(handler)
    two.method("x/a", NoParams, result=Done)(handler)
    one.notification("x/pushed", Done)
    with pytest.raises(ValueError, match="x/a registered twice"):
        one.method("x/a", NoParams, result=Done)(handler)
    with pytest.raises(ValueError, match="x/pushed declared twice"):
        one.notification("x/pushed", Done)
    combined = MethodRegistry()
    combined.include(one)
    with pytest.raises(ValueError, match="x/a registered twice"):
        combined.include(two)
