"""Talk to a running SQL preview kernel the way the pod does: one execute per preview."""

from __future__ import annotations

import json
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient

from kernels.sql.kernel import MIMETYPE


async def preview(
    client: AsyncKernelClient, request: dict[str, Any], timeout: float = 30
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Send one preview; return its events (columns, rows..., done|error) and the reply."""
    msg_id = client.execute(json.dumps(request), store_history=False, stop_on_error=False)
    events: list[dict[str, Any]] = []
    while True:
        msg = await client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "display_data":
            data = msg["content"]["data"][MIMETYPE]
            for event in data["events"]:
                if event["event"] == "rows":  # the rows travel in the message's buffer
                    event["rows"] = json.loads(bytes(msg["buffers"][event.pop("buffer")]))
                events.append({**event, "query_id": data["query_id"]})
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    while True:
        reply = await client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return events, reply["content"]


def rows_of(events: list[dict[str, Any]]) -> list[list[Any]]:
    return [row for e in events if e["event"] == "rows" for row in e["rows"]]
