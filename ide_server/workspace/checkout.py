"""The volume's checkout at pod start, loading git only when there is git work to do.

A later start (the volume already holds a checkout, the usual case) only re-checks the
pod's local excludes, which is plain file work; the first start, or a volume in any
other state, goes through :func:`.clone.ensure_checkout` with pygit2 and the git stack.
pygit2 is a tenth of the pod's start: a pod that only opens files never loads it.
"""

from __future__ import annotations

from .config import PodConfig
from .git.excludes import ensure_local_excludes


def prepare_checkout(config: PodConfig) -> None:
    git_dir = config.root / ".git"
    if git_dir.is_dir() and not git_dir.is_symlink():
        ensure_local_excludes(git_dir)
        return
    from .clone import ensure_checkout

    ensure_checkout(config)
