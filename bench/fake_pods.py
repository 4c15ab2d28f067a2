"""Many fake session pods in one process of their own, each on a socket of its own.

    python bench/fake_pods.py unix|tcp COUNT DIR

Each pod answers ``GET /sessions/<id>/ide/activity`` as a real pod does (old activity,
not busy). ``unix`` gives each pod a Unix socket under DIR (the local backend's endpoints),
``tcp`` a port of its own on 127.0.0.1 (the Kubernetes backend's: one address per pod).
The endpoints are printed one per line, then ``ready``; the process serves until its
stdin closes. Running apart from the benchmark keeps the pods' work off the gateway's
event loop, as it is in production.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from pathlib import Path


class _Pod(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, enough for the activity probe."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1]
            if path.endswith(b"/ide/activity"):
                now = time.time()
                body = json.dumps(
                    {"last_activity": now - 7200, "busy": False, "clients": 0, "now": now}
                ).encode()
                status = b"200 OK"
            else:
                body, status = b"{}", b"404 Not Found"
            self.transport.write(  # type: ignore[attr-defined]
                b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )


def _listeners(kind: str, count: int, folder: Path) -> list[tuple[str, socket.socket]]:
    out = []
    for i in range(count):
        if kind == "unix":
            path = folder / f"pod-{i}.sock"
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(path))
            out.append((f"unix:{path}", sock))
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            out.append((f"http://127.0.0.1:{sock.getsockname()[1]}", sock))
        sock.listen(64)
        sock.setblocking(False)
    return out


async def _serve(kind: str, count: int, folder: Path) -> None:
    loop = asyncio.get_running_loop()
    listeners = _listeners(kind, count, folder)
    for _, sock in listeners:
        await loop.create_server(_Pod, sock=sock)
    print("\n".join(endpoint for endpoint, _ in listeners), flush=True)
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the benchmark goes away


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))
