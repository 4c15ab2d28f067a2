"""One dbt command run through ``dbt/run``: its process, notifications, cancel and record.

Its ``dbt/log``, ``dbt/node`` and ``dbt/done`` go to every socket of the session (``notify``
is the workspace's broadcast), so a second tab of the developer sees the run too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .commands import Command
from .processes import CANCEL_GRACE_SECONDS, DbtProcess

WRITER_MODULE = "ide_server.workspace.dbt.writer"
HISTORY_LIMIT = 200


@dataclass(eq=False)
class Invocation:
    invocation_id: str
    command: Command
    notify: Callable[[str, Mapping[str, Any]], Awaitable[None]]  # to every socket
    user: str
    branch: str | None
    commit: str | None
    exclusive: bool  # holds the session's one write slot (and a DuckDB dev file's lock)
    started_at: float = field(default_factory=time.time)
    started_mono: float = field(default_factory=time.monotonic)
    process: DbtProcess | None = None
    status: str = "running"  # running | success | error | cancelled
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("pass", "warn", "error", "skip"), 0))  # fmt: skip
    elapsed_ms: float | None = None
    cancel_requested: bool = False
    show_run_id: str | None = None  # a DuckDB show's preview, run by the pod (see .show)
    started: asyncio.Event = field(default_factory=asyncio.Event)  # its process runs
    done: asyncio.Event = field(default_factory=asyncio.Event)  # its end is decided
    # Set once the end is kept (spooled) and dbt/done went out: what a cancel waits for,
    # so a session stopping right after collects the final record, not a "running" one.
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    db_released: asyncio.Event = field(default_factory=asyncio.Event)  # process exited
    # Keeps the final record and artifacts in the spool before dbt/done goes out.
    on_finish: Callable[[Invocation], Awaitable[None]] | None = None

    def record(self) -> dict[str, Any]:
        return {
            "invocation_id": self.invocation_id,
            "command": self.command.name,
            "args": list(self.command.args),
            "user": self.user,
            "branch": self.branch,
            "commit": self.commit,
            "started_at": self.started_at,
            "elapsed_ms": self.elapsed_ms,
            "status": self.status,
            "counts": dict(self.counts),
        }

    def age_seconds(self) -> int:
        return int(time.monotonic() - self.started_mono)

    async def on_event(self, message: dict[str, Any]) -> None:
        kind = message.get("event")
        body = {k: v for k, v in message.items() if k not in ("event", "name")}
        body["invocation_id"] = self.invocation_id
        if kind == "log":
            await self.notify("dbt/log", body)
        elif kind == "node":
            await self.notify("dbt/node", body)
        elif kind == "done":
            await self.finish(
                success=bool(message.get("success")),
                cancelled=bool(message.get("cancelled")) or self.cancel_requested,
                counts=message.get("counts") or self.counts,
            )

    async def finish(self, *, success: bool, cancelled: bool, counts: dict[str, int]) -> None:
        if self.done.is_set():  # another path ends it: wait until it is kept
            await self.finished.wait()
            return
        self.elapsed_ms = round((time.monotonic() - self.started_mono) * 1000, 1)
        self.counts = {k: int(counts.get(k, 0)) for k in self.counts}
        self.status = "cancelled" if cancelled else ("success" if success else "error")
        self.done.set()
        try:
            if self.on_finish is not None:
                await self.on_finish(self)
            await self.notify(
                "dbt/done",
                {
                    "invocation_id": self.invocation_id,
                    "success": success and not cancelled,
                    "cancelled": cancelled,
                    "elapsed_ms": self.elapsed_ms,
                    "counts": dict(self.counts),
                },
            )
        finally:
            self.finished.set()

    async def cancel(self) -> None:
        """SIGINT (dbt's own cancel), then SIGKILL if it has not ended after a grace period."""
        self.cancel_requested = True
        process = self.process
        if process is None:  # still waiting to start: it never will
            await self.finish(success=False, cancelled=True, counts=self.counts)
            return
        process.interrupt()
        try:
            await asyncio.wait_for(self.done.wait(), CANCEL_GRACE_SECONDS)
        except TimeoutError:
            await process.stop(grace=0)
        await self.finish(success=False, cancelled=True, counts=self.counts)

    async def supervise(self) -> None:
        """Wait for the end of the command; then let its process go once previews finished."""
        process = self.process
        assert process is not None
        done_wait = asyncio.ensure_future(self.done.wait())
        exit_wait = asyncio.ensure_future(process.exited.wait())
        await asyncio.wait({done_wait, exit_wait}, return_when=asyncio.FIRST_COMPLETED)
        done_wait.cancel()
        if not self.done.is_set():  # killed from outside before it could report
            await self.notify("dbt/log", {
                "invocation_id": self.invocation_id, "ts": None, "level": "error",
                "msg": "the dbt process ended unexpectedly"})  # fmt: skip
            await self.finish(success=False, cancelled=self.cancel_requested, counts=self.counts)
        await process.requests_finished()
        await process.stop()
        exit_wait.cancel()
        self.db_released.set()
