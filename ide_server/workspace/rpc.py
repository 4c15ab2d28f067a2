"""JSON-RPC 2.0 dispatch for the IDE protocol.

Method modules declare their methods on a :class:`~.registry.MethodRegistry`; the
dispatcher validates the params against the declared dataclass, runs the handler and
turns every failure into a JSON-RPC error object so that one bad message never ends the
connection. The names method modules need (codes, ``RpcError``, the registry) are
re-exported here.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import types
import typing
from collections.abc import Mapping
from typing import Any, Protocol

from .errors import (
    ALREADY_EXISTS,
    CONFLICT,
    FORBIDDEN,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_PATH,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    NOT_FOUND,
    NOT_TEXT,
    PARSE_ERROR,
    UNAVAILABLE,
    RpcError,
)
from .registry import Handler, Method, MethodRegistry, NoParams, Notification

__all__ = [
    "ALREADY_EXISTS",
    "CONFLICT",
    "FORBIDDEN",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_PATH",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "NOT_FOUND",
    "NOT_TEXT",
    "PARSE_ERROR",
    "UNAVAILABLE",
    "Client",
    "Context",
    "Handler",
    "Method",
    "MethodRegistry",
    "NoParams",
    "Notification",
    "RpcError",
    "dispatch",
    "dispatch_message",
    "error_response",
    "parse_message",
    "parse_params",
]

log = logging.getLogger(__name__)


class Client(Protocol):
    """One connected browser tab, as a method handler sees it."""

    user: str
    role: str

    async def notify(self, method: str, params: Mapping[str, Any]) -> None: ...

    async def notify_encoded(self, method: str, params: str) -> None:
        """Like :meth:`notify`, with ``params`` a JSON object already encoded as text."""
        ...


class Context(Protocol):
    """What a handler may use: the workspace, the calling client and its peers."""

    @property
    def client(self) -> Client: ...

    @property
    def workspace(self) -> Any: ...

    async def broadcast(
        self, method: str, params: Mapping[str, Any], *, include_self: bool = False
    ) -> None: ...


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


@functools.cache
def _declared_fields(cls: type) -> tuple[dict[str, dataclasses.Field[Any]], dict[str, Any]]:
    """The fields of a params dataclass and their resolved type hints.

    Resolving the hints evaluates every annotation (they are strings, see ``__future__``)
    and cost each call about as much as the rest of its validation; a declared class does
    not change, so it is done once per class.
    """
    return {f.name: f for f in dataclasses.fields(cls)}, typing.get_type_hints(cls)


def parse_params(cls: type, raw: Any) -> Any:
    """Build the params dataclass ``cls`` from a JSON value, or raise INVALID_PARAMS."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RpcError(INVALID_PARAMS, "params must be an object")
    fields, hints = _declared_fields(cls)
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
    try:
        return await method.handler(ctx, params)
    except RpcError as exc:
        if not method.may_answer(exc.code):
            # Still answered: the client's message is useful. The log says what to fix.
            log.error(
                "%s answered error %s, which its registration does not declare", name, exc.code
            )
        raise
