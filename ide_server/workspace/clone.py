"""Make sure the volume holds the project's checkout before the pod's server starts.

The first start clones ``config.git_url`` into a temporary directory next to the volume
and moves it into place, so a crash mid-clone never leaves a half-made checkout that a
later start would trust. Later starts reuse the volume exactly as it is: uncommitted
work, branches and merges in progress all survive a pod being reaped.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pygit2

from .config import PodConfig
from .git.branches import set_upstream
from .git.credentials import ProgressSink, configure_tls
from .git.excludes import ensure_local_excludes
from .git.remote import ensure_origin, tracking_ref
from .git.repo import open_repository
from .git.sync import fetch, remote_session
from .git.worktree import safe_checkout

log = logging.getLogger(__name__)

# Present inside the volume while a clone is being moved into it (see _move_into_place).
IN_PROGRESS_MARKER = Path(".ide") / "clone-in-progress"
# Entries a fresh volume may already hold that are not project files.
VOLUME_NOISE = frozenset({".ide", "lost+found"})


def ensure_checkout(config: PodConfig, on_progress: ProgressSink | None = None) -> None:
    """Clone the project on the first start; on later starts only re-check local settings."""
    root = config.root
    configure_tls()
    if (root / ".git").is_dir():
        ensure_local_excludes(Path(open_repository(root).path))
        return
    if not config.git_url:
        # A project without a remote still gets git (history, diffs, branches).
        root.mkdir(parents=True, exist_ok=True)
        repo = pygit2.init_repository(str(root), initial_head=config.default_branch)
        ensure_local_excludes(Path(repo.path))
        return
    _clear_interrupted_move(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(root)
    temporary = Path(tempfile.mkdtemp(prefix=_temporary_prefix(root), dir=root.parent))
    try:
        log.info("cloning the project into %s", root)
        clone_into(temporary, config, on_progress)
        _move_into_place(temporary, root)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    log.info("clone of the project finished")


def clone_into(dest: Path, config: PodConfig, on_progress: ProgressSink | None = None) -> None:
    """init + fetch + checkout, so the clone goes through the same guarded remote as a pull."""
    repo = pygit2.init_repository(str(dest), initial_head=config.default_branch)
    ensure_origin(repo, config.git_url)
    fetch(repo, config, remote_session(config, "clone", on_progress=on_progress))
    branch = _initial_branch(repo, config.default_branch)
    if branch is not None:
        commit = repo.references[tracking_ref(branch)].peel(pygit2.Commit)
        repo.branches.local.create(branch, commit)
        set_upstream(repo, branch, branch)
        # The same guarded checkout as a branch switch: refuses reserved paths.
        safe_checkout(repo, commit.tree, f"cloning branch {branch}")
        repo.set_head(f"refs/heads/{branch}")
    ensure_local_excludes(Path(repo.path))
    repo.free()


def _initial_branch(repo: pygit2.Repository, default_branch: str) -> str | None:
    """The project's primary branch if the remote has it, else a sensible other one."""
    prefix = "refs/remotes/origin/"
    names = sorted(r.removeprefix(prefix) for r in repo.references if r.startswith(prefix))
    names = [n for n in names if n != "HEAD"]
    for candidate in (default_branch, "main", "master"):
        if candidate in names:
            return candidate
    return names[0] if names else None  # None: an empty remote, HEAD stays unborn


def _temporary_prefix(root: Path) -> str:
    return f".{root.name}.clone-"


def _remove_stale_temporaries(root: Path) -> None:
    for entry in root.parent.glob(_temporary_prefix(root) + "*"):
        shutil.rmtree(entry, ignore_errors=True)


def _clear_interrupted_move(root: Path) -> None:
    """Undo a move into the volume that a crash interrupted; refuse to clobber anything else."""
    if not root.exists():
        return
    leftovers = [e for e in root.iterdir() if e.name not in VOLUME_NOISE]
    if not leftovers:
        return
    if not (root / IN_PROGRESS_MARKER).exists():
        raise RuntimeError(f"{root} holds files but no git checkout; refusing to clone over them")
    for entry in leftovers:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _move_into_place(temporary: Path, root: Path) -> None:
    if not root.exists():
        os.rename(temporary, root)  # one atomic step
        return
    # The volume already exists (a mount point cannot be replaced): move entries in,
    # ``.git`` last, and only by an atomic rename inside the volume.
    marker = root / IN_PROGRESS_MARKER
    marker.parent.mkdir(mode=0o700, exist_ok=True)
    marker.touch()
    for entry in temporary.iterdir():
        if entry.name != ".git":
            shutil.move(str(entry), str(root / entry.name))
    incoming = root / ".git.incoming"
    shutil.move(str(temporary / ".git"), str(incoming))
    os.rename(incoming, root / ".git")
    marker.unlink()
