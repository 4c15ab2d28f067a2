"""JSON-RPC 2.0 dispatch for the IDE protocol.

Method modules register handlers on a :class:`MethodRegistry` with a dataclass that
describes their params; the dispatcher validates the params against it, runs the
handler and turns every failure into a JSON-RPC error object so that one bad message
never ends the connection.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

# JSON-RPC reserved codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Application codes (documented in docs/protocol.md).
FORBIDDEN = -32001
INVALID_PATH = -32002
NOT_FOUND = -32003
ALREADY_EXISTS = -32004
NOT_TEXT = -32005
CONFLICT = -32006
UNAVAILABLE = -32007


class RpcError(Exception):
    """An error answered to the client as a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = dict(data) if data else None

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class Client(Protocol):
    """One connected browser tab, as a method handler sees it."""

    user: str
    role: str

    async def notify(self, method: str, params: Mapping[str, Any]) -> None: ...


class Context(Protocol):
    """What a handler may use: the workspace, the calling client and its peers."""

    @property
    def client(self) -> Client: ...

    @property
    def workspace(self) -> Any: ...

    async def broadcast(
        self, method: str, params: Mapping[str, Any], *, include_self: bool = False
    ) -> None: ...


Handler = Callable[[Any, Any], Awaitable[Any]]


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    params: type
    handler: Handler
    writes: bool


class MethodRegistry:
    """The table of methods one endpoint answers."""

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def method(
        self, name: str, params: type, *, writes: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register ``handler(ctx, params)``.

        ``writes`` marks the methods a read-only member may not call.
        """
        if not dataclasses.is_dataclass(params):
            raise TypeError(f"params of {name} must be a dataclass")

        def register(handler: Handler) -> Handler:
            if name in self._methods:
                raise ValueError(f"method {name} registered twice")
            self._methods[name] = Method(name, params, handler, writes)
            return handler

        return register

    def include(self, other: MethodRegistry) -> None:
        """Add every method of ``other`` (one registry per feature module)."""
        for method in other._methods.values():
            if method.name in self._methods:
                raise ValueError(f"method {method.name} registered twice")
            self._methods[method.name] = method

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def write_methods(self) -> frozenset[str]:
        return frozenset(m.name for m in self._methods.values() if m.writes)


def _type_matches(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_matches(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if origin in (list, tuple):
        (item,) = typing.get_args(annotation)[:1] or (Any,)
        return isinstance(value, list) and all(_type_matches(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def parse_params(cls: type, raw: Any) -> Any:
    """Build the params dataclass ``cls`` from a JSON value, or raise INVALID_PARAMS."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise RpcError(INVALID_PARAMS, f"unknown param(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name not in raw:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise RpcError(INVALID_PARAMS, f"missing param: {name}")
            continue
        if not _type_matches(raw[name], hints[name]):
            raise RpcError(INVALID_PARAMS, f"param {name} has the wrong type")
        values[name] = raw[name]
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from exc


def error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def parse_message(text: str | bytes) -> Any:
    """The JSON value of a frame, or :data:`NOT_JSON`."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NOT_JSON


NOT_JSON = object()


async def dispatch(registry: MethodRegistry, ctx: Context, text: str | bytes) -> dict | None:
    """Answer one incoming frame; ``None`` for notifications that need no reply."""
    return await dispatch_message(registry, ctx, parse_message(text))


async def dispatch_message(registry: MethodRegistry, ctx: Context, message: Any) -> dict | None:
    """Answer one parsed message (see :func:`parse_message`)."""
    if message is NOT_JSON:
        return error_response(None, RpcError(PARSE_ERROR, "message is not valid JSON"))
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return error_response(None, RpcError(INVALID_REQUEST, "not a JSON-RPC 2.0 request"))
    request_id = message.get("id")
    name = message.get("method")
    if not isinstance(name, str):
        return error_response(request_id, RpcError(INVALID_REQUEST, "method must be a string"))
    is_notification = "id" not in message
    try:
        result = await _call(registry, ctx, name, message.get("params"))
    except RpcError as exc:
        return None if is_notification else error_response(request_id, exc)
    except Exception:
        log.exception("method %s failed", name)
        error = RpcError(INTERNAL_ERROR, f"{name} failed on the server; see the pod log")
        return None if is_notification else error_response(request_id, error)
    if is_notification:
        return None
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


async def _call(registry: MethodRegistry, ctx: Context, name: str, raw_params: Any) -> Any:
    method = registry.get(name)
    if method is None:
        raise RpcError(METHOD_NOT_FOUND, f"unknown method: {name}")
    if method.writes and ctx.client.role == "read-only":
        raise RpcError(FORBIDDEN, f"{name} needs write access; your role is read-only")
    params = parse_params(method.params, raw_params)
    return await method.handler(ctx, params)
