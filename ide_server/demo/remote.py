"""Publish the shipped demo dbt project as a bare git repository that users can clone."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from ide_server.durable import fsync_path

REMOTES_DIRNAME = "remotes"
DEMO_REMOTE_NAME = "demo.git"
BRANCH = "main"
AUTHOR_NAME = "IDE demo"
AUTHOR_EMAIL = "demo@localhost"
COMMIT_MESSAGE = (
    "Add the demo dbt project\n\n"
    "A small coffee-and-tea shop: sources in the raw schema, staging views,\n"
    "mart tables for orders, customers and monthly revenue, and their tests.\n"
)

# Build output from someone running dbt inside the source tree must not be published.
_SKIPPED_DIRS = frozenset({"target", "dbt_packages", "logs", "__pycache__"})
_BUILD_PREFIX = f".{DEMO_REMOTE_NAME}-"
_BUILD_SUFFIX = ".tmp"
# A build takes well under a second; one this old belongs to a process that died.
_STALE_BUILD_SECONDS = 3600


def create_demo_remote(data_dir: Path) -> Path:
    """Return ``<data_dir>/remotes/demo.git``, creating it first if it does not exist.

    The repository is bare and holds one commit of the demo project on ``main``. It is
    built in a temporary directory beside its final place and renamed into place, so the
    final path either does not exist or is complete, even after a crash. An existing
    repository is returned untouched (users may have pushed to it).
    """
    remotes = Path(data_dir) / REMOTES_DIRNAME
    target = remotes / DEMO_REMOTE_NAME
    if target.exists():
        return target
    remotes.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_stale_builds(remotes)
    build = Path(tempfile.mkdtemp(prefix=_BUILD_PREFIX, suffix=_BUILD_SUFFIX, dir=remotes))
    try:
        _write_bare_repository(build)
        # Make the content durable before the rename publishes it.
        _fsync_tree(build)
        try:
            os.rename(build, target)
        except OSError:
            # Another process published it first; theirs is as good as ours.
            if target.is_dir():
                return target
            raise
        fsync_path(remotes)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target


def project_files() -> Iterator[tuple[str, bytes]]:
    """The demo project's files as (``/``-separated relative path, content), sorted."""
    yield from _walk(files("ide_server.demo") / "project", "")


def _walk(directory: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in sorted(directory.iterdir(), key=lambda item: item.name):
        path = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name not in _SKIPPED_DIRS:
                yield from _walk(entry, path + "/")
        elif entry.is_file() and not entry.name.endswith(".pyc"):
            yield path, entry.read_bytes()


def _write_bare_repository(path: Path) -> None:
    repo = pygit2.init_repository(path, bare=True, initial_head=BRANCH)
    # An in-memory index builds the nested trees for us without a working directory.
    index = pygit2.Index()
    for relative, content in project_files():
        index.add(pygit2.IndexEntry(relative, repo.create_blob(content), FileMode.BLOB))
    tree = index.write_tree(repo)
    author = pygit2.Signature(AUTHOR_NAME, AUTHOR_EMAIL)
    repo.create_commit(f"refs/heads/{BRANCH}", author, author, COMMIT_MESSAGE, tree, [])


def _remove_stale_builds(remotes: Path) -> None:
    cutoff = time.time() - _STALE_BUILD_SECONDS
    for leftover in remotes.glob(f"{_BUILD_PREFIX}*{_BUILD_SUFFIX}"):
        try:
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:
            continue


def _fsync_tree(root: Path) -> None:
    # libgit2 does not fsync by default, and its global switch would affect every other
    # repository in the process, so sync this one by hand: files first, then directories.
    for directory, _, filenames in os.walk(root, topdown=False):
        for name in filenames:
            fsync_path(Path(directory, name))
        fsync_path(Path(directory))
