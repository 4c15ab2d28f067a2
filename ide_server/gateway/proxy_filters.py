"""What the proxy reads in WebSocket frames: read-only enforcement and activity."""

from __future__ import annotations

import json

# y-websocket framing: first byte 0 = sync (then 0 step1, 1 step2, 2 update), 1 = awareness.
_Y_SYNC, _Y_AWARENESS = 0, 1
_Y_STEP2, _Y_UPDATE = 1, 2
_PASSIVE_METHODS = frozenset({"session/heartbeat"})


def _rpc_method(data: str | bytes) -> tuple[object, str | None]:
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    if not isinstance(message, dict):
        return None, None
    method = message.get("method")
    return message.get("id"), method if isinstance(method, str) else None


def refuse_for_read_only(
    rest: str, role: str, data: str | bytes, write_methods: frozenset[str]
) -> str | None:
    """None to forward the frame; otherwise it is dropped, and a non-empty string is
    answered to the client (a JSON-RPC error)."""
    if role != "read-only":
        return None
    if rest.startswith("/api/collaboration/room/"):
        if (
            isinstance(data, bytes)
            and len(data) >= 2
            and data[0] == _Y_SYNC
            and data[1] in (_Y_STEP2, _Y_UPDATE)
        ):
            return ""  # a document change from a read-only member: dropped
        return None
    if rest == "/ide":
        request_id, method = _rpc_method(data)
        if method not in write_methods:
            return None  # the pod checks every method's role again
        if request_id is None:
            return ""
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "error": {
                    "code": -32001,
                    "message": f"{method} needs write access; your role is read-only",
                },
            }
        )
    return None


def counts_as_activity(rest: str, data: str | bytes) -> bool:
    """Heartbeats and awareness pings keep sockets open but are no sign of work."""
    if rest.startswith("/api/collaboration/room/"):
        return not (isinstance(data, bytes) and data[:1] == bytes([_Y_AWARENESS]))
    if rest == "/ide" and len(data) < 512:
        return _rpc_method(data)[1] not in _PASSIVE_METHODS
    return True
