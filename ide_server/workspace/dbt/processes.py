"""The pod's side of its dbt processes: start one, talk to it, stop it.

Each process speaks the JSON-lines channel of :mod:`.channel` on its stdin/stdout.
Messages with an ``id`` answer a request and go to that request's queue; the others
(``log``, ``node``, ``done`` of a write command) go to the process's event callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# dbt runs the project's code; it gets none of the pod's own secrets.
_PRIVATE_ENV_PREFIXES = ("IDE_POD_", "JUPYTER_TOKEN", "IDE_SQL_", "DBT_ENV_SECRET_")
_LINE_LIMIT = 64 * 1024 * 1024  # a rows batch is far smaller; a manifest-sized answer fits
CANCEL_GRACE_SECONDS = 1.5  # SIGINT first (dbt cancels warehouse statements), then SIGKILL

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]


class ProcessGone(Exception):
    """The dbt process ended before it answered."""


def dbt_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_ENV_PREFIXES)}
    env.update(
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_VERSION_CHECK="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class DbtProcess:
    """One child process running ``module`` with the channel on its stdio."""

    def __init__(self, module: str, cwd: Path, env: Mapping[str, str]) -> None:
        self.module, self.cwd, self.env = module, cwd, dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self._pending: dict[str, asyncio.Queue[dict[str, Any] | None]] = {}
        self._on_event: EventHandler | None = None
        self._reader: asyncio.Task[None] | None = None
        self._no_requests = asyncio.Event()
        self._no_requests.set()
        self.exited = asyncio.Event()

    async def start(self, first: dict[str, Any], on_event: EventHandler | None = None) -> None:
        self._on_event = on_event
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-P", "-m", self.module,  # -P: never import from the project
            cwd=str(self.cwd), env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, limit=_LINE_LIMIT,
            start_new_session=True,  # a SIGINT to the pod's group does not reach it
        )  # fmt: skip
        self._reader = asyncio.ensure_future(self._read())
        self.send(first)

    @property
    def alive(self) -> bool:
        return self.proc is not None and not self.exited.is_set()

    def send(self, message: dict[str, Any]) -> None:
        if self.proc is None or self.proc.stdin is None or self.exited.is_set():
            raise ProcessGone("the dbt process is not running")
        self.proc.stdin.write((json.dumps(message) + "\n").encode())

    def open_request(self, request_id: str) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._pending[request_id] = queue
        self._no_requests.clear()
        if self.exited.is_set():
            queue.put_nowait(None)
        return queue

    def close_request(self, request_id: str) -> None:
        self._pending.pop(request_id, None)
        if not self._pending:
            self._no_requests.set()

    async def requests_finished(self) -> None:
        """Wait until no request is in flight (or the process ended)."""
        if self.alive:
            await self._no_requests.wait()

    async def call(self, request_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send a request and wait for its one answer (``result`` or ``error``)."""
        queue = self.open_request(request_id)
        try:
            self.send({**message, "id": request_id})
            answer = await queue.get()
        finally:
            self.close_request(request_id)
        if answer is None:
            raise ProcessGone("the dbt worker stopped while answering; try again")
        return answer

    def interrupt(self) -> None:
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)

    async def stop(self, grace: float = CANCEL_GRACE_SECONDS) -> None:
        """Close the channel, then SIGKILL if the process has not exited after ``grace``."""
        if self.proc is None:
            return
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.exited.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.exited.wait()

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                await self._route(json.loads(line))
        except Exception:
            log.warning("dbt process channel failed", exc_info=True)
        finally:
            await self.proc.wait()
            self.exited.set()
            self._no_requests.set()
            for queue in self._pending.values():
                queue.put_nowait(None)

    async def _route(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if request_id is not None:
            queue = self._pending.get(str(request_id))
            if queue is not None:
                queue.put_nowait(message)
        elif self._on_event is not None:
            try:
                await self._on_event(message)
            except Exception:
                log.warning("dbt event handler failed", exc_info=True)
