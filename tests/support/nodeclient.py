"""A third-party Yjs client for tests: Node's y-websocket provider (tests/node/yclient.mjs).

The test installs tests/node's locked packages once (``npm ci``), then drives each client
over its stdin and stdout, one JSON object a line.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.client import Api

NODE_DIR = Path(__file__).resolve().parent.parent / "node"


def install_node_clients() -> Path:
    """``npm ci`` in tests/node: exactly the locked y-websocket, ws and yjs."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the Node client tests need npm (Node.js 20 or later) on PATH")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=NODE_DIR,
        check=True,
        timeout=300,
    )
    return NODE_DIR


class NodeYClient:
    """One ``node yclient.mjs`` process joined to a room through the gateway."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def join(
        cls, api: Api, sid: str, session: dict[str, Any], cookie: str | None = None
    ) -> NodeYClient:
        server = api.ws_url(f"/sessions/{sid}/api/collaboration/room")
        cookie = cookie if cookie is not None else f"ide_session={api.cookie}"
        proc = await asyncio.create_subprocess_exec(
            shutil.which("node") or "node",
            str(NODE_DIR / "yclient.mjs"),
            server,
            f"text:file:{session['fileId']}",
            session["sessionId"],
            cookie,
            api.base_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            message = json.loads(line)
            await (self._replies if "ok" in message else self.events).put(message)

    async def event(self, name: str, timeout: float = 20) -> dict[str, Any]:
        while True:
            message = await asyncio.wait_for(self.events.get(), timeout)
            if message.get("event") == name:
                return message

    async def command(self, timeout: float = 60, **command: Any) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self.proc.stdin.drain()
        reply = await asyncio.wait_for(self._replies.get(), timeout)
        return str(reply["text"])

    async def text(self) -> str:
        return await self.command(op="text")

    async def close(self) -> None:
        if self.proc.returncode is None:
            try:
                await self.command(op="quit", timeout=5)
            except (TimeoutError, ConnectionError, BrokenPipeError):
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
