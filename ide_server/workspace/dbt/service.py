"""The dbt side of one session pod: the warm worker, write commands, previews of models.

- The warm worker (:mod:`.reader`) starts on first use and keeps the parsed manifest; every
  compile, lineage and catalog request goes to it, one at a time (dbt is not re-entrant).
- ``dbt/run`` starts one process per command (:mod:`.writer`). Write commands hold the
  session's one write slot; a second gets BUSY.
- On DuckDB, the dev database file admits one writing process or many reading ones.
  Previews read it through the worker only while no command holds it, and through the
  command's own process while one does; a command waits for the worker's previews in
  flight before it starts. So neither side ever meets the other's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ..private_dirs import PrivateDirs
from ..runs import ClientRuns
from .commands import Command
from .invocations import HISTORY_LIMIT, WRITER_MODULE, Invocation
from .processes import DbtProcess, ProcessGone, dbt_env
from .profiles import DbtSetup, NoWarehouse, write_profiles
from .show import run_show
from .spool import DEBUG_LOG, POD_STOPPED, Spool

log = logging.getLogger(__name__)

READER_MODULE = "ide_server.workspace.dbt.reader"


class NotDbtProject(Exception):
    pass


class InvocationIdTaken(Exception):
    pass


class Busy(Exception):
    def __init__(self, running: Invocation) -> None:
        super().__init__(
            f"another command is running: dbt {running.command.name}, "
            f"started {running.age_seconds()} s ago"
        )
        self.running = running


class DbtService:
    def __init__(self, workspace: Any) -> None:
        self._workspace = workspace
        self._setup: DbtSetup | None = None
        self._private: Path | None = None
        self._reader: DbtProcess | None = None
        self._reader_start = asyncio.Lock()
        self._exclusive: Invocation | None = None
        self._invocations: dict[str, Invocation] = {}
        self._history: deque[Invocation] = deque(maxlen=HISTORY_LIMIT)
        self._worker_readers = 0  # previews on the DuckDB dev file through the worker
        self._worker_idle = asyncio.Condition()
        self._tasks: set[asyncio.Task[Any]] = set()
        # dbt previews running or waiting: (client, its query_id) -> the pod-wide run id.
        self.previews: ClientRuns[str] = ClientRuns("query_id")
        self._stopping = False
        self._born = time.time()  # spooled records older than this pod are its predecessor's

    @property
    def spool(self) -> Spool:
        """Finished invocations waiting for the gateway (see :mod:`.spool`)."""
        return Spool(self.project_dir / ".ide" / "dbt" / "spool")

    def keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a background task until it ends (asyncio keeps only weak references)."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def project_dir(self) -> Path:
        return Path(self._workspace.root)

    def is_dbt_project(self) -> bool:
        return (self.project_dir / "dbt_project.yml").is_file()

    def busy(self) -> bool:
        running = any(i.status == "running" for i in self._invocations.values())
        return running or bool(self.previews)

    def setup(self) -> DbtSetup:
        """Write the profile on first use; raise NotDbtProject or NoWarehouse."""
        if not self.is_dbt_project():
            raise NotDbtProject("this project is not a dbt project (it has no dbt_project.yml)")
        if self._setup is None:
            config = self._workspace.config
            self._private = _private_dir()
            self._setup = write_profiles(
                config.warehouse,
                project_dir=self.project_dir,
                volume=self.project_dir,
                private_dir=self._private,
                user=config.user,
            )
        return self._setup

    # -- the warm worker --------------------------------------------------------------

    async def reader(self) -> DbtProcess:
        setup = self.setup()
        async with self._reader_start:
            if self._reader is None or not self._reader.alive:
                assert self._private is not None
                process = DbtProcess(READER_MODULE, self.project_dir, dbt_env(setup.env))
                await process.start(self._reader_setup(setup, self._private / "reader"))
                self._reader = process
            return self._reader

    def _reader_setup(self, setup: DbtSetup, private: Path) -> dict[str, Any]:
        return {
            "project_dir": str(self.project_dir),
            "profiles_dir": str(setup.profiles_dir),
            "private_dir": str(private),
            "target": "read",
            "adapter": setup.adapter,
            "dev_path": str(setup.dev_path) if setup.dev_path else None,
            # The read target's scratch database (profiles.py), which the worker keeps a
            # rowless copy of the dev database's relations in (see .shadow).
            "scratch_path": str(setup.profiles_dir / "scratch" / "dev.duckdb")
            if setup.adapter == "duckdb"
            else None,
            "attach": [list(a) for a in setup.attach],
        }

    async def ask(self, op: str, **params: Any) -> dict[str, Any]:
        """One request to the warm worker; restarts it once if it had died."""
        for attempt in (1, 2):
            process = await self.reader()
            try:
                return await process.call(secrets.token_hex(8), {"op": op, **params})
            except ProcessGone:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- previews on the dev database -------------------------------------------------

    async def stream_query(self, request_id: str, sql: str, cap: int) -> AsyncIterator[dict]:
        """Yield a DuckDB preview's events (columns, rows..., done | error | refused)."""
        while True:
            holder = self._exclusive
            if holder is None:
                async with self._worker_dev_read() as free:
                    if free:
                        async for event in self._query_on(
                            await self.reader(), request_id, sql, cap
                        ):
                            yield event
                        return
                continue
            if not holder.started.is_set():  # waiting for the worker's previews, or starting
                await holder.started.wait()
                continue
            process = holder.process
            if process is not None and process.alive and not holder.done.is_set():
                async for event in self._query_on(process, request_id, sql, cap):
                    yield event
                return
            await holder.db_released.wait()  # its process lets go of the file in a moment

    @contextlib.asynccontextmanager
    async def _worker_dev_read(self) -> AsyncIterator[bool]:
        """Count one worker read of the dev file; yields whether no command holds it.

        The count goes up before the check: a command that takes the slot afterwards waits
        for this read to finish before its process opens the file.
        """
        async with self._worker_idle:
            self._worker_readers += 1
        try:
            yield self._exclusive is None
        finally:
            async with self._worker_idle:
                self._worker_readers -= 1
                self._worker_idle.notify_all()

    async def _query_on(
        self, process: DbtProcess, request_id: str, sql: str, cap: int
    ) -> AsyncIterator[dict]:
        queue = process.open_request(request_id)
        try:
            process.send({"op": "query", "id": request_id, "sql": sql, "cap": cap})
            while (event := await queue.get()) is not None:
                yield event
                if event.get("event") in ("done", "error", "refused") or "error" in event:
                    return
            yield {"event": "error", "message": "the dbt process ended during the preview",
                   "cancelled": False}  # fmt: skip
        finally:
            process.close_request(request_id)

    async def compile(self, path: str | None, text: str | None, name: str | None = None) -> dict:
        """The worker's compile of a node (by path or name) or of SQL, in the node's context.

        On DuckDB, while no command holds the dev file, the worker may read its relations
        first (so `is_incremental()` and `{{ this }}` see what was built): a counted read.
        """
        if self.setup().adapter != "duckdb":
            return await self.ask("compile", path=path, text=text, name=name)
        await self._running_holder()  # a command that just finished lets go of the file
        async with self._worker_dev_read() as free:
            return await self.ask("compile", path=path, text=text, name=name, dev_free=free)

    async def catalog(self) -> dict[str, Any]:
        """The worker's catalog, with built relations' columns when the dev file is free."""
        if self.setup().adapter == "duckdb" and await self._running_holder() is None:
            async with self._worker_dev_read() as free:
                return await self.ask("catalog", warehouse=free)
        return await self.ask("catalog", warehouse=False)

    async def _running_holder(self) -> Invocation | None:
        """The command holding the write slot, once a finished one has let go of it."""
        holder = self._exclusive
        if holder is not None and holder.done.is_set():
            # Finished; its process lets go of the dev database in a moment.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(holder.db_released.wait(), 10)
        return self._exclusive

    def known(self, invocation_id: str) -> bool:
        return any(i.invocation_id == invocation_id for i in self._history)

    def cancel_query(self, request_id: str) -> None:
        for process in (self._reader, self._exclusive.process if self._exclusive else None):
            if process is not None and process.alive:
                with contextlib.suppress(ProcessGone):
                    process.send({"op": "cancel", "target": request_id})

    # -- dbt/run ------------------------------------------------------------------------

    async def run(self, command: Command, invocation_id: str, user: str) -> Invocation:
        setup = self.setup()
        # Only writers hold the slot. On DuckDB, reads never open the dev database for
        # writing: show runs as the pod's preview (see .show), the others on the read target.
        exclusive = command.writes
        if exclusive and (holder := await self._running_holder()) is not None:
            raise Busy(holder)
        if self.known(invocation_id):
            raise InvocationIdTaken(f"invocation_id {invocation_id!r} is taken; choose a new one")
        branch, commit = self._head()
        invocation = Invocation(
            invocation_id, command, self._workspace.broadcast, user, branch, commit, exclusive
        )
        invocation.on_finish = self._keep_finished
        try:
            self.spool.begin(invocation.record())
        except OSError:  # the history misses it; the command still runs
            log.warning("could not spool invocation %s", invocation_id, exc_info=True)
        self._invocations[invocation_id] = invocation
        self._history.appendleft(invocation)
        if exclusive:
            self._exclusive = invocation
        self.keep(asyncio.ensure_future(self._start(invocation, setup)))
        return invocation

    async def _start(self, invocation: Invocation, setup: DbtSetup) -> None:
        await asyncio.sleep(0)  # the answer with the invocation id goes out first
        try:
            if invocation.exclusive and setup.adapter == "duckdb":
                async with self._worker_idle:  # the worker's previews let go of the file
                    await self._worker_idle.wait_for(lambda: self._worker_readers == 0)
            if invocation.cancel_requested:
                await invocation.finish(success=False, cancelled=True, counts={})
                return
            if setup.adapter == "duckdb" and invocation.command.name == "show":
                invocation.started.set()
                debug_log = self.spool.path(invocation.invocation_id) / DEBUG_LOG
                await run_show(self, invocation, str(debug_log))
                return
            process = DbtProcess(WRITER_MODULE, self.project_dir, dbt_env(setup.env))
            invocation.process = process
            await process.start(
                {
                    "argv": self._argv(invocation, setup),
                    "adapter": setup.adapter,
                    "debug_log": str(self.spool.path(invocation.invocation_id) / DEBUG_LOG),
                    "hide_rows": invocation.command.name == "show",
                },
                invocation.on_event,
            )
            invocation.started.set()
            await invocation.supervise()
        except Exception:
            log.exception("dbt %s failed to run", invocation.command.name)
            await invocation.finish(success=False, cancelled=False, counts={})
        finally:
            invocation.started.set()
            invocation.db_released.set()
            if self._exclusive is invocation:
                self._exclusive = None
            self._invocations.pop(invocation.invocation_id, None)

    def _argv(self, invocation: Invocation, setup: DbtSetup) -> list[str]:
        command = invocation.command
        argv = [*command.argv(), "--profiles-dir", str(setup.profiles_dir),
                "--project-dir", str(self.project_dir), "--no-version-check",
                "--no-send-anonymous-usage-stats"]  # fmt: skip
        # Reads that need no data compile against the scratch target, beside a running build.
        argv += ["--target", "dev" if invocation.exclusive or setup.adapter != "duckdb" else "read"]
        if command.name == "show":
            # dbt logs the rows it shows: no debug log file and no artifacts for it.
            argv += ["--log-level-file", "none", "--no-write-json"]
        return argv

    async def _keep_finished(self, invocation: Invocation) -> None:
        """The final record and dbt's artifacts into the spool; never fails the invocation."""
        try:
            await asyncio.to_thread(
                self._spool_finished, invocation, self._target_dir(invocation.command)
            )
        except Exception:
            log.warning("could not spool invocation %s", invocation.invocation_id, exc_info=True)

    def _spool_finished(self, invocation: Invocation, target: Path | None) -> None:
        directory = self.spool.path(invocation.invocation_id)
        if self._stopping and invocation.status == "cancelled" and directory.is_dir():
            with open(directory / DEBUG_LOG, "a", encoding="utf-8") as f:
                f.write(f"[error] {POD_STOPPED}\n")
        self.spool.finish(invocation.record(), target, invocation.started_at)

    def _target_dir(self, command: Command) -> Path | None:
        """Where this command's dbt writes its artifacts; None for ``show`` (it writes none
        and must keep nothing)."""
        if command.name == "show":
            return None
        target = None
        for i, arg in enumerate(command.args):
            if arg == "--target-path" and i + 1 < len(command.args):
                target = command.args[i + 1]
            elif arg.startswith("--target-path="):
                target = arg.split("=", 1)[1]
        if target is None:
            target = _project_target_path(self.project_dir)
        return self.project_dir / target

    def spooled(self) -> list[dict[str, Any]]:
        """Every spooled invocation; those left ``running`` by a stopped pod become
        ``cancelled`` first."""
        self.spool.recover(before=self._born)
        return self.spool.entries()

    async def cancel_all(self) -> None:
        """Before the session stops: cancel what runs so its record says so."""
        self._stopping = True
        for invocation in list(self._invocations.values()):
            await invocation.cancel()

    async def cancel(self, invocation_id: str) -> bool:
        invocation = self._invocations.get(invocation_id)
        if invocation is None or invocation.done.is_set():
            return False
        if invocation.show_run_id is not None:
            self.cancel_query(invocation.show_run_id)
        await invocation.cancel()
        return True

    def history(self, limit: int) -> list[dict[str, Any]]:
        return [i.record() for i in list(self._history)[:limit]]

    def _head(self) -> tuple[str | None, str | None]:
        try:
            import pygit2

            repo = pygit2.Repository(str(self.project_dir))
            if repo.head_is_unborn:
                return None, None
            return repo.head.shorthand, str(repo.head.target)
        except Exception:
            return None, None

    async def shutdown(self) -> None:
        """Cancel running commands, stop the worker, remove the private files; idempotent."""
        self._stopping = True
        for invocation in list(self._invocations.values()):
            await invocation.cancel()
        if self._reader is not None:
            await self._reader.stop()
        if self._private is not None:  # the profile and the worker's scratch files
            shutil.rmtree(self._private, ignore_errors=True)
        self._private = self._setup = None


def _project_target_path(project_dir: Path) -> str:
    try:
        import yaml  # type: ignore[import-untyped]

        with open(project_dir / "dbt_project.yml", encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        return str(data.get("target-path") or "target") if isinstance(data, dict) else "target"
    except Exception:  # unreadable or not YAML: dbt itself will say so
        return "target"


def _private_dir() -> Path:
    """The pod's private dbt directory (see :mod:`..private_dirs`), outside the volume.

    The launcher pins ``JUPYTER_RUNTIME_DIR`` to the pod's private directory; a workspace
    built without the launcher (in-process tests) gets a fresh temporary one.
    """
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR")
    if runtime:
        return PrivateDirs(Path(runtime)).dbt_profiles
    return Path(tempfile.mkdtemp(prefix="ide-dbt-"))


__all__ = ["Busy", "DbtService", "NoWarehouse", "NotDbtProject"]
