"""dbt's structured events turned into the pod's ``dbt/log`` and ``dbt/node`` messages.

Runs in the dbt processes, as a dbtRunner callback. Every event with a message becomes one
log line with its level (debug ones too: the drawer hides them unless its debug toggle is
on), and the end of a node becomes a node result counted into pass / warn / error / skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_FORWARDED_LEVELS = frozenset({"debug", "info", "warn", "error"})
_NODE_FINISHED = "NodeFinished"
_STATUS_COUNTS = {
    "success": "pass",
    "pass": "pass",
    "warn": "warn",
    "error": "error",
    "fail": "error",
    "runtime error": "error",
    "skipped": "skip",
    "skip": "skip",
}


class EventRelay:
    """A dbtRunner callback that sends each event as a channel message and counts nodes."""

    def __init__(self, send: Callable[[dict[str, Any]], None]) -> None:
        self._send = send
        self.counts = {"pass": 0, "warn": 0, "error": 0, "skip": 0}

    def __call__(self, event: Any) -> None:
        try:
            self._relay(event)
        except Exception:  # a malformed event must never end the invocation
            return

    def _relay(self, event: Any) -> None:
        info = event.info
        name = str(info.name)
        if name == _NODE_FINISHED:
            self._node_finished(event)
        level = str(info.level)
        if level not in _FORWARDED_LEVELS or not info.msg:
            return
        message: dict[str, Any] = {
            "event": "log",
            "ts": info.ts.ToJsonString() if info.HasField("ts") else None,
            "level": level,
            "msg": str(info.msg),
            "name": name,
        }
        node = _node_id(event)
        if node:
            message["node"] = node
        self._send(message)

    def _node_finished(self, event: Any) -> None:
        result = event.data.run_result
        status = str(result.status).lower()
        bucket = _STATUS_COUNTS.get(status)
        if bucket:
            self.counts[bucket] += 1
        message: dict[str, Any] = {
            "event": "node",
            "unique_id": _node_id(event),
            "status": status,
            "elapsed_ms": round(float(result.execution_time) * 1000, 1),
        }
        if result.message:
            message["message"] = str(result.message)
        self._send(message)


def _node_id(event: Any) -> str | None:
    data = getattr(event, "data", None)
    if data is None or not hasattr(data, "node_info"):
        return None
    try:
        if not data.HasField("node_info"):
            return None
    except ValueError:
        return None
    return str(data.node_info.unique_id) or None
