"""The fetch an IDE asks for when it opens: remote branches appear without a pull.

The network part runs in a child process (:mod:`.fetch_child`) with no lock held, so a
slow or dead remote never delays a commit, a checkout or a pull, and it is bounded by
killing that process. Only the last step takes the git lock, for a few milliseconds:
the fetched pack moves into the checkout and each ``refs/remotes/origin/*`` is updated
*only if nobody moved it since the fetch began* (a pull or ``git/fetch`` that ran
meanwhile has a view at least as new). Local branches, HEAD, the index and the working
tree are never touched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygit2

from .remote import TRACKING_PREFIX, tracking_ref
from .repo import open_repository

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

CHILD_MODULE = "ide_server.workspace.git.fetch_child"
FETCH_TIMEOUT = 90.0  # the whole transfer, however the remote behaves
PUBLISH_WAIT = 30 * 60.0  # behind a long pull, the last step waits rather than gives up
NOTIFICATION = "git/remote_fetch"


class FetchFailed(Exception):
    """The fetch did not complete; the message is for a person."""


def tracking_tips(root: Path) -> dict[str, str]:
    """``branch → commit`` of every ``refs/remotes/origin/*`` (read without the lock)."""
    repo = open_repository(root)
    try:
        return {
            name.removeprefix(TRACKING_PREFIX): str(repo.references[name].target)
            for name in repo.references
            if name.startswith(TRACKING_PREFIX) and not name.endswith("/HEAD")
        }
    finally:
        repo.free()


def move_objects(source: Path, target: Path) -> None:
    """Move fetched packs (index last, as git does) and any loose objects into ``target``."""
    packs = source / "pack"
    order = {".pack": 0, ".rev": 1, ".idx": 2}
    files = (
        sorted(packs.glob("pack-*"), key=lambda f: order.get(f.suffix, 3)) if packs.is_dir() else []
    )
    for directory in (d for d in source.iterdir() if len(d.name) == 2 and d.is_dir()):
        files += list(directory.iterdir())
    for file in files:
        destination = target / file.relative_to(source)
        if not destination.exists():  # objects are named by content: same name, same bytes
            destination.parent.mkdir(exist_ok=True)
            os.replace(file, destination)


def publish(
    root: Path, scratch: Path, before: dict[str, str], fetched: dict[str, str]
) -> dict[str, list[str]]:
    """Under the git lock: bring the objects over, then move the refs nobody else moved."""
    repo = open_repository(root)
    try:
        move_objects(scratch / "objects", Path(repo.path) / "objects")
    finally:
        repo.free()
    repo = open_repository(root)  # opened again so it sees the new pack
    new: list[str] = []
    updated: list[str] = []
    try:
        for branch, commit in sorted(fetched.items()):
            current = repo.references.get(tracking_ref(branch))
            now = str(current.target) if current is not None else None
            if now != before.get(branch) or now == commit:
                continue  # moved by a pull, git/fetch or push since, or unchanged
            repo.references.create(tracking_ref(branch), pygit2.Oid(hex=commit), force=True)
            (new if now is None else updated).append(branch)
    finally:
        repo.free()
    return {"new_branches": new, "updated_branches": updated}


class BackgroundFetch:
    """At most one background fetch per pod; callers during one share its outcome."""

    def __init__(self, workspace: Workspace, timeout: float = FETCH_TIMEOUT) -> None:
        self.workspace = workspace
        self.timeout = timeout
        self._task: asyncio.Task[dict[str, Any]] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._last: dict[str, Any] = self._state("idle")

    @property
    def scratch(self) -> Path:
        return self.workspace.config.runtime_dir / "fetch.git"

    def current(self) -> dict[str, Any]:
        """The running fetch's state, else the last one's outcome."""
        return dict(self._last)

    def start(self) -> asyncio.Task[dict[str, Any]]:
        if self._task is None or self._task.done():
            self._last = self._state("fetching")  # before the task runs: callers see it now
            self._task = asyncio.create_task(self._run())
        return self._task

    async def shutdown(self) -> None:
        """Stop a running fetch; safe to call twice."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _state(self, state: str, **fields: Any) -> dict[str, Any]:
        base = {"state": state, "message": None, "finished_at": None}
        return {**base, "new_branches": [], "updated_branches": [], **fields}

    async def _tell(self, state: dict[str, Any]) -> None:
        self._last = state
        await self.workspace.broadcast(NOTIFICATION, state)

    async def _run(self) -> dict[str, Any]:
        root = self.workspace.root
        await self._tell(self._state("fetching"))
        try:
            before = await asyncio.to_thread(tracking_tips, root)
            fetched = await self._fetch_in_child()
            async with self.workspace.git.exclusive("background fetch", wait=PUBLISH_WAIT):
                changes = await asyncio.to_thread(publish, root, self.scratch, before, fetched)
            outcome = self._state("done", finished_at=time.time(), **changes)
        except FetchFailed as exc:
            outcome = self._state("failed", message=str(exc), finished_at=time.time())
        except Exception as exc:  # the IDE must hear that it ended, whatever happened
            log.warning("background fetch failed", exc_info=True)
            outcome = self._state(
                "failed", message=f"the fetch failed: {exc}", finished_at=time.time()
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, self.scratch, True)
        if outcome["new_branches"] or outcome["updated_branches"]:
            await self.workspace.broadcast("git/changed", {"op": "fetch"})
        await self._tell(outcome)
        return outcome

    async def _fetch_in_child(self) -> dict[str, str]:
        config = self.workspace.config
        request = {
            "root": str(config.root),
            "scratch": str(self.scratch),
            "url": config.git_url,
            "token": config.git_token,
            "ca_bundle": config.git_ca_bundle,
        }
        # The child needs none of the pod's settings; the token goes on stdin.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("IDE_POD_") and k != "JUPYTER_TOKEN"
        }
        config.runtime_dir.mkdir(parents=True, exist_ok=True)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-P", "-m", CHILD_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=config.runtime_dir,
        )  # fmt: skip
        self._process = process
        try:
            answer, errors = await asyncio.wait_for(self._converse(process, request), self.timeout)
        except TimeoutError:
            raise FetchFailed(
                f"the remote {config.git_url} did not answer within {self.timeout:.0f} s"
            ) from None
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()
            self._process = None
        if answer is None:
            log.warning("the fetch process ended without an answer: %s", errors[-2000:])
            raise FetchFailed("the fetch process ended without an answer")
        if "error" in answer:
            raise FetchFailed(str(answer["error"]))
        return {str(k): str(v) for k, v in answer["refs"].items()}

    async def _converse(
        self, process: asyncio.subprocess.Process, request: dict[str, str]
    ) -> tuple[dict[str, Any] | None, str]:
        assert process.stdin and process.stdout and process.stderr
        process.stdin.write(json.dumps(request).encode())
        await process.stdin.drain()
        process.stdin.close()
        errors = asyncio.create_task(process.stderr.read())
        answer: dict[str, Any] | None = None
        async for line in process.stdout:
            message = json.loads(line)
            if "progress" in message:
                progress = message["progress"]
                fields = {
                    k: progress[k] for k in ("received_objects", "total_objects") if k in progress
                }
                await self._tell(self._state("fetching", **fields))
            else:
                answer = message
        return answer, (await errors).decode(errors="replace")
