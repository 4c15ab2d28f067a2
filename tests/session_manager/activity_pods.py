"""Fake pods that answer the reaper's activity probe, each on a Unix socket of its own, and
a backend that hands out their endpoints."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from session_manager.backends.base import BackendError, PodSpec, Progress
from tests.session_manager.fakes import InstantBackend


class ActivityPods:
    """``GET .../ide/activity`` answered as a pod does, with what the test set for it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.activity: dict[str, dict[str, object]] = {}
        self.probes: dict[str, int] = {}
        self._servers: list[asyncio.Server] = []

    async def serve(self, name: str, idle_for: float, busy: bool = False) -> str:
        """The endpoint of a pod whose last activity was ``idle_for`` seconds ago."""
        self.activity[name] = {"last_activity": time.time() - idle_for, "busy": busy}
        path = self.folder / f"{name}.sock"

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while await reader.readuntil(b"\r\n\r\n"):
                    self.probes[name] = self.probes.get(name, 0) + 1
                    body = json.dumps(self.activity[name]).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        self._servers.append(await asyncio.start_unix_server(answer, str(path)))
        return f"unix:{path}"

    async def close(self) -> None:
        for server in self._servers:
            server.close()


class EndpointBackend(InstantBackend):
    """Pods start at once on the endpoint the test prepared for their session's user."""

    name = "endpoints"

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: dict[str, str] = {}  # user → endpoint
        self.refuse_stop: set[str] = set()  # session ids whose stop fails
        self.stopped: list[str] = []

    async def start(self, spec: PodSpec, progress: Progress) -> str:
        self.running[spec.session_id] = spec
        return self.endpoints[spec.user]

    async def stop(self, session_id: str) -> None:
        if session_id in self.refuse_stop:
            raise BackendError("the node does not answer")
        self.stopped.append(session_id)
        await super().stop(session_id)
