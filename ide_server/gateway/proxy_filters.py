"""What the proxy lets through: routes, headers, and in WebSocket frames the writes of
read-only members, the methods above a guest's share mode, and what counts as activity.
Pure functions, tested one by one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from starlette.types import Scope

# The pod routes a browser may reach, relative to the session's base path: the IDE socket
# and the collaboration rooms; the rest of the Jupyter server (contents, kernels) is not.
_ALLOWED = re.compile(r"^/(ide|api/collaboration/(session|room)/.+)$")
_HOP_HEADERS = frozenset(
    {
        "host",
        "cookie",
        "authorization",
        "origin",
        "connection",
        "upgrade",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-authenticate",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "content-length",
        # What a client says about the route it came by is not for the pod to believe.
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-real-ip",
    }
)
# The pod's answer may not set cookies on the gateway's origin, and httpx has decoded it.
_RESPONSE_DROPPED = _HOP_HEADERS | {"set-cookie", "content-encoding"}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed_route(rest: str) -> bool:
    """Whether ``rest`` (the path below /sessions/<id>) is a pod route a browser may use."""
    # Dot segments would be collapsed on the way to the pod, after this check.
    return bool(_ALLOWED.match(rest)) and not any(s in (".", "..") for s in rest.split("/"))


def request_headers(
    incoming: Iterable[tuple[str, str]], *, token: str, user: str, role: str
) -> dict[str, str]:
    """The headers the pod gets: the client's, minus credentials, hop-by-hop headers and
    anything claiming to be the gateway's own (``x-ide-*``), plus the pod token and who
    is calling."""
    out = {
        k: v
        for k, v in incoming
        if k.lower() not in _HOP_HEADERS and not k.lower().startswith("x-ide-")
    }
    out["authorization"] = f"token {token}"
    out["x-ide-user"] = user
    out["x-ide-role"] = role
    return out


def response_headers(
    pod_headers: Iterable[tuple[str, str]], length: int
) -> list[tuple[bytes, bytes]]:
    """The headers the browser gets from a pod's HTTP answer of ``length`` bytes."""
    out = [(k.encode(), v.encode()) for k, v in pod_headers if k.lower() not in _RESPONSE_DROPPED]
    out.append((b"content-length", str(length).encode()))
    return out


def pod_path(scope: Scope) -> str:
    """The request's own raw path and query, unchanged: the pod serves the same base path."""
    path: str = scope["raw_path"].decode("latin-1")
    if scope.get("query_string"):
        path += "?" + scope["query_string"].decode("latin-1")
    return path


def refuse_http_for_read_only(rest: str, role: str, method: str) -> bool:
    """A read-only member may read; of the writes only joining a room (which the
    collaboration extension does with a PUT) is theirs to make."""
    return (
        role == "read-only"
        and method not in _SAFE_METHODS
        and not rest.startswith("/api/collaboration/session/")
    )


# y-websocket framing: first byte 0 = sync (then 0 step1, 1 step2, 2 update), 1 = awareness.
_Y_SYNC, _Y_AWARENESS = 0, 1
_Y_STEP1 = 0
_PASSIVE_METHODS = frozenset({"session/heartbeat"})
_FORBIDDEN = -32001  # the protocol's "forbidden" (ide_server/protocol.py ERRORS)
_MODE_RANK = {"view": 0, "edit": 1, "full": 2}


def _rpc_method(data: str | bytes) -> tuple[object, str | None]:
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    if not isinstance(message, dict):
        return None, None
    method = message.get("method")
    return message.get("id"), method if isinstance(method, str) else None


def _reads_the_room(data: str | bytes) -> bool:
    if not isinstance(data, bytes) or not data:
        return False
    if data[0] == _Y_AWARENESS:
        return True
    return len(data) >= 2 and data[0] == _Y_SYNC and data[1] == _Y_STEP1


def _forbidden(request_id: object, message: str) -> str:
    error = {"code": _FORBIDDEN, "message": message}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error})


def refuse_frame(
    rest: str,
    role: str,
    data: str | bytes,
    write_methods: frozenset[str],
    guest_mode: str | None = None,
    guest_modes: Mapping[str, str] | None = None,
) -> str | None:
    """None to forward the frame; otherwise it is dropped, and a non-empty string is
    answered to the client (a JSON-RPC error).

    A read-only ``role`` (a read-only member, or a guest in ``view`` mode) may only read;
    a guest (``guest_mode``) may call only the methods whose mode in ``guest_modes`` is no
    higher than theirs, and none the table does not know."""
    if role != "read-only" and guest_mode in (None, "full"):
        return None
    if rest.startswith("/api/collaboration/room/"):
        # Only what reads is let through: a sync request (sync step 1) and awareness.
        # Document changes, raw messages (a "save") and anything unknown are dropped.
        if role != "read-only" or _reads_the_room(data):
            return None
        return ""
    if rest != "/ide":
        return None
    request_id, method = _rpc_method(data)
    if role == "read-only" and method in write_methods:
        if request_id is None:
            return ""
        return _forbidden(request_id, f"{method} needs write access; your role is read-only")
    if guest_mode is None or guest_mode == "full" or method is None:
        return None  # not a call: the pod answers what it makes of it
    needed = (guest_modes or {}).get(method, "full")
    if _MODE_RANK[needed] <= _MODE_RANK[guest_mode]:
        return None
    if request_id is None:
        return ""
    return _forbidden(request_id, f"{method} needs a share in {needed} mode; yours is {guest_mode}")


def counts_as_activity(rest: str, data: str | bytes) -> bool:
    """Heartbeats and awareness pings keep sockets open but are no sign of work."""
    if rest.startswith("/api/collaboration/room/"):
        return not (isinstance(data, bytes) and data[:1] == bytes([_Y_AWARENESS]))
    if rest == "/ide" and len(data) < 512:
        return _rpc_method(data)[1] not in _PASSIVE_METHODS
    return True
