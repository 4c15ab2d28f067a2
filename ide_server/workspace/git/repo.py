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

# How long a write waits for another one before answering "busy".
LOCK_WAIT_SECONDS = 5.0


def open_repository(root: Path) -> pygit2.Repository:
    """The repository whose working tree is exactly ``root``.

    ``NO_SEARCH`` stops libgit2 from walking up into a parent directory's repository,
    and leaving out ``FROM_ENV`` makes it ignore ``GIT_DIR`` and friends.
    """
    if not (root / ".git").exists():
        raise RpcError(WRONG_STATE, "the project folder is not a git checkout")
    if (root / ".git").is_symlink():  # its objects and hooks would live outside the volume
        raise RpcError(WRONG_STATE, "the project's .git must be a directory inside the project")
    repo = pygit2.Repository(str(root), RepositoryOpenFlag.NO_SEARCH)
    git_dir = Path(os.path.realpath(repo.path))
    if repo.is_bare or repo.workdir is None:
        raise RpcError(WRONG_STATE, "the project folder holds a bare repository")
    if git_dir != Path(os.path.realpath(root / ".git")):
        # A ``.git`` *file* ("gitdir: /elsewhere") would let a checkout write outside
        # the volume; the IDE only works on a plain ``.git`` directory.
        raise RpcError(WRONG_STATE, "the project's .git must be a directory inside the project")
    return repo


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
