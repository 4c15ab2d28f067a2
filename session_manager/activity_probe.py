"""The reaper's activity probe: one small GET to one pod, on a connection of its own.

The reaper asks every ready pod at once, a thousand of them on a large gateway, and all of
that runs on the gateway's event loop. Through httpx each probe cost about 1.5 ms of CPU
there (its client, URL, header and cookie models, then httpcore's pool and anyio
wrappers, around h11), most of a second per thousand pods before any stop began. The
probe needs none of that: it speaks HTTP/1.1 through h11 (the protocol library httpx uses
underneath) over an asyncio connection, about a fifth of the cost. Proxied traffic keeps
its pooled httpx clients (:mod:`.pods`).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import h11

MAX_BODY = 64 * 1024  # an activity answer is a few dozen bytes; anything larger is not one


PROBE_TIMEOUT = 5.0  # seconds; a pod slower than this is judged by the backend instead


class ProbeFailed(Exception):
    """The pod did not answer as a pod of ours does (unreachable, slow, or not a pod)."""


async def pod_activity(endpoint: str, base_url: str, token: str) -> dict[str, Any] | None:
    """The pod's own view of its activity (last activity, busy), or None if unreachable."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            data = await get_json(endpoint, f"{base_url}ide/activity", token)
        data["last_activity_at"] = datetime.fromtimestamp(float(data["last_activity"]), UTC)
        data["busy"] = bool(data.get("busy"))
    except (ProbeFailed, TimeoutError):
        return None
    except (ValueError, TypeError, KeyError, OverflowError):
        return None  # not the pod we expect: judged by poll() instead
    return dict(data)


async def get_json(endpoint: str, path: str, token: str) -> Any:
    """``GET path`` from the pod at ``endpoint`` (``unix:/path`` or ``http://host:port``)
    with its token; the JSON body of a 200 answer, else :class:`ProbeFailed`."""
    try:
        return await _get_json(endpoint, path, token)
    except (OSError, h11.ProtocolError, ValueError) as exc:
        raise ProbeFailed(f"{type(exc).__name__}: {exc}") from None


async def _get_json(endpoint: str, path: str, token: str) -> Any:
    reader, writer, host = await _connect(endpoint)
    try:
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_BODY)
        request = h11.Request(
            method="GET",
            target=path,
            headers=[("Host", host), ("Authorization", f"token {token}"), ("Connection", "close")],
        )
        writer.write((conn.send(request) or b"") + (conn.send(h11.EndOfMessage()) or b""))
        status, body = 0, bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(16 * 1024))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY:
                    raise ProbeFailed("the answer is too large for an activity report")
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        if status != 200:
            raise ProbeFailed(f"the pod answered {status}")
        return json.loads(body)
    finally:
        writer.close()


async def _connect(endpoint: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    if endpoint.startswith("unix:"):
        reader, writer = await asyncio.open_unix_connection(endpoint[5:])
        return reader, writer, "pod"
    url = urlsplit(endpoint)
    if url.scheme != "http" or not url.hostname or not url.port:
        raise ProbeFailed(f"not a pod endpoint: {endpoint!r}")
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    return reader, writer, url.netloc
