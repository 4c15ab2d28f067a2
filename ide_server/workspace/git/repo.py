"""Open the volume's repository safely and keep the per-workspace git state.

pygit2 (libgit2) runs no hooks, no fsmonitor, no filters, textconv or credential helpers
configured in ``.git/config``; the one network-relevant setting it honours,
``url.*.insteadOf``, is handled in :mod:`.remote`. What is left to guard here is *which*
repository gets opened: never one found by walking up from the volume, never one named
by ``GIT_DIR``-style environment variables, and never a ``.git`` file that points the
checkout at a git directory outside the volume.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import RepositoryOpenFlag

from ..config import PodConfig
from ..rpc import RpcError
from .errors import BUSY, WRONG_STATE

# Entries every checkout ignores locally: the pod's own state on the volume, and the
# temporary files of a save in progress (see ide_server.durable).
LOCAL_EXCLUDES = (".ide/", ".*.ide-tmp", ".~*")
# How long a write waits for another one before answering "busy".
LOCK_WAIT_SECONDS = 5.0


def open_repository(root: Path) -> pygit2.Repository:
    """The repository whose working tree is exactly ``root``.

    ``NO_SEARCH`` stops libgit2 from walking up into a parent directory's repository,
    and leaving out ``FROM_ENV`` makes it ignore ``GIT_DIR`` and friends.
    """
    if not (root / ".git").exists():
        raise RpcError(WRONG_STATE, "the project folder is not a git checkout")
    repo = pygit2.Repository(str(root), RepositoryOpenFlag.NO_SEARCH)
    git_dir = Path(os.path.realpath(repo.path))
    if repo.is_bare or repo.workdir is None:
        raise RpcError(WRONG_STATE, "the project folder holds a bare repository")
    if git_dir != Path(os.path.realpath(root / ".git")):
        # A ``.git`` *file* ("gitdir: /elsewhere") would let a checkout write outside
        # the volume; the IDE only works on a plain ``.git`` directory.
        raise RpcError(WRONG_STATE, "the project's .git must be a directory inside the project")
    return repo


def ensure_local_excludes(repo: pygit2.Repository) -> None:
    """Add the pod's own directories to ``.git/info/exclude`` (never to .gitignore)."""
    exclude = Path(repo.path) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    lines = existing.splitlines()
    missing = [entry for entry in LOCAL_EXCLUDES if entry not in lines]
    if not missing:
        return
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write(prefix + "".join(f"{entry}\n" for entry in missing))


def signature(config: PodConfig) -> pygit2.Signature:
    """Author and committer from the user's profile, never from ``user.*`` in git config."""
    offset = time.localtime().tm_gmtoff // 60
    return pygit2.Signature(config.user_name, config.user_email, int(time.time()), offset)


def head_branch(repo: pygit2.Repository) -> str | None:
    """The short name of the checked-out branch (also when unborn), or None if detached."""
    if repo.head_is_detached:
        return None
    target = repo.references["HEAD"].target
    assert isinstance(target, str)
    return target.removeprefix("refs/heads/")


@dataclass
class GitState:
    """Per-workspace git bookkeeping shared by all clients of one pod."""

    root: Path
    # Serialises operations that write the repository: two tabs (or two pair
    # programmers) committing at once must not interleave index writes.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    @asynccontextmanager
    async def exclusive(
        self, operation: str, wait: float = LOCK_WAIT_SECONDS
    ) -> AsyncIterator[threading.Event]:
        """Hold the write lock for ``operation`` (waiting up to ``wait`` seconds for it);
        yields the event that cancels it."""
        try:
            await asyncio.wait_for(self.lock.acquire(), wait)
        except TimeoutError:
            raise RpcError(
                BUSY, f"another git operation ({self.running}) is running; try again later"
            ) from None
        self.running = operation
        self.cancel_event = threading.Event()
        try:
            yield self.cancel_event
        finally:
            self.running = None
            self.lock.release()

    def cancel(self) -> str | None:
        """Ask the running operation to stop; returns its name, or None if idle."""
        if self.running is None:
            return None
        self.cancel_event.set()
        return self.running
