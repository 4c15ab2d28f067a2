"""Index and working-tree edits: stage, unstage, discard, and a checkout that never loses work."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutNotify, CheckoutStrategy, FileMode, FileStatus, RepositoryState

from ..paths import resolve
from ..rpc import RpcError
from .errors import UNCOMMITTED_CHANGES, UNRESOLVED_CONFLICTS, WRONG_STATE
from .reserved import Entry, problems, refuse_reserved_entries

# Pathspec matching off: a file named "models/*.sql" means that file, not a glob.
LITERAL = CheckoutStrategy.DISABLE_PATHSPEC_MATCH


class ConflictCollector(pygit2.CheckoutCallbacks):
    """Records the files a checkout refuses to overwrite, so we can name them all."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def checkout_notify_flags(self) -> CheckoutNotify:
        return CheckoutNotify.CONFLICT

    def checkout_notify(self, why: CheckoutNotify, path: str, *args: object) -> None:
        self.paths.append(path)


def safe_checkout(repo: pygit2.Repository, tree: pygit2.Tree, action: str) -> None:
    """Check out ``tree`` keeping uncommitted changes; refuse, listing them, if they'd be lost.

    Every write of a whole tree to the working tree (clone, switch, pull, revert) comes
    here, so this is where a tree reaching into the reserved directories is refused.
    libgit2 decides every conflict before it writes a single file, so a refusal leaves
    the working tree exactly as it was.
    """
    refuse_reserved_entries(repo, tree, action)
    collector = ConflictCollector()
    try:
        repo.checkout_tree(
            tree,
            strategy=CheckoutStrategy.SAFE | CheckoutStrategy.RECREATE_MISSING,
            callbacks=collector,
        )
    except pygit2.GitError:
        if not collector.paths:
            raise
        files = sorted(set(collector.paths))
        raise RpcError(
            UNCOMMITTED_CHANGES,
            f"{action} would overwrite uncommitted changes in {len(files)} file(s); "
            "commit or discard them first",
            {"files": files},
        ) from None


def changed_paths(repo: pygit2.Repository) -> dict[str, int]:
    """Every path that differs from HEAD (staged, unstaged or untracked), with its flags."""
    return {
        path: flags
        for path, flags in repo.status(untracked_files="all", ignored=False).items()
        if flags != FileStatus.CURRENT and not flags & FileStatus.IGNORED
    }


def check_paths(root: Path, paths: Iterable[str]) -> list[str]:
    """Validate client paths against the volume (same rules as ``fs/*``)."""
    checked = []
    for path in paths:
        resolve(root, path)
        checked.append(path.strip("/"))
    return checked


def refuse_during_merge(repo: pygit2.Repository, action: str) -> None:
    if repo.state() != RepositoryState.NONE:
        raise RpcError(
            WRONG_STATE,
            f"cannot {action} while a merge is in progress; resolve and commit, or abort it",
        )


def stage(repo: pygit2.Repository, root: Path, paths: list[str] | None) -> list[str]:
    """Put the working copies of ``paths`` (default: every changed file) in the index."""
    index = repo.index
    conflicted = set(conflicted_paths(index))
    if paths is None:
        # Never offer a reserved spelling (``.IDE/`` on a case-sensitive disk) for a commit
        # that every other checkout would then refuse.
        targets = [
            p
            for p in changed_paths(repo)
            if p not in conflicted and not problems([Entry(p, FileMode.BLOB)])
        ]
    else:
        targets = check_paths(root, paths)
        blocked = sorted(set(targets) & conflicted)
        if blocked:
            raise RpcError(
                UNRESOLVED_CONFLICTS,
                "conflicted files are marked resolved with git/resolve",
                {"files": blocked},
            )
    for path in targets:
        if (root / path).is_file() or (root / path).is_symlink():
            index.add(path)
        elif path in index:
            index.remove(path)
    index.write()
    return sorted(targets)


def unstage(repo: pygit2.Repository, root: Path, paths: list[str] | None) -> list[str]:
    """Make the index entries of ``paths`` (default: all) match HEAD again."""
    refuse_during_merge(repo, "unstage")
    index = repo.index
    head_tree = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    if paths is None:
        targets = sorted(_staged_paths(repo, index, head_tree))
    else:
        targets = check_paths(root, paths)
    for path in targets:
        entry = _tree_entry(head_tree, path)
        if entry is not None:
            index.add(pygit2.IndexEntry(path, entry.id, entry.filemode))
        elif path in index:
            index.remove(path)
    index.write()
    return targets


def discard(repo: pygit2.Repository, root: Path, paths: list[str] | None) -> list[str]:
    """Drop uncommitted changes: restore tracked files from HEAD, delete new ones.

    The client asks the user to confirm first; there is no undo.
    """
    refuse_during_merge(repo, "discard changes")
    changed = changed_paths(repo)
    targets = sorted(changed) if paths is None else check_paths(root, paths)
    head_tree = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
    restore = [p for p in targets if _tree_entry(head_tree, p) is not None]
    if restore:
        restore_from_head(repo, restore, "discarding changes", missing_too=True)
    index = repo.index
    for path in targets:
        if path in restore:
            continue
        if path in index:
            index.remove(path)
        _remove_file(root, path)
    index.write()
    return targets


def restore_from_head(
    repo: pygit2.Repository, paths: list[str], action: str, *, missing_too: bool = False
) -> None:
    """Overwrite ``paths`` with HEAD's version; HEAD's tree passes the reserved check first.

    A checkout made before that check existed may hold a hostile HEAD: restoring from it
    must not recreate what a checkout of it would now refuse.
    """
    refuse_reserved_entries(repo, repo.head.peel(pygit2.Commit).tree, action)
    strategy = CheckoutStrategy.FORCE | LITERAL
    if missing_too:
        strategy |= CheckoutStrategy.RECREATE_MISSING
    repo.checkout_head(strategy=strategy, paths=paths)


def _remove_file(root: Path, path: str) -> None:
    target = root / path
    if target.is_file() or target.is_symlink():
        target.unlink()
    # Directories that only held the discarded file would linger in the file tree.
    parent = target.parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def _staged_paths(
    repo: pygit2.Repository, index: pygit2.Index, head_tree: pygit2.Tree | None
) -> set[str]:
    if head_tree is None:
        return {entry.path for entry in index}
    diff = index.diff_to_tree(head_tree)
    return {p for d in diff.deltas for p in (d.old_file.path, d.new_file.path)}


def _tree_entry(tree: pygit2.Tree | None, path: str) -> pygit2.Object | None:
    if tree is None:
        return None
    try:
        entry = tree[path]
    except KeyError:
        return None
    return None if entry.type_str == "tree" else entry


def _conflicts(index: pygit2.Index) -> list[tuple]:
    conflicts = index.conflicts
    return [] if conflicts is None else list(conflicts)


def conflicted_paths(index: pygit2.Index) -> list[str]:
    """Paths with unresolved conflict entries in the index."""
    paths = set()
    for ancestor, ours, theirs in _conflicts(index):
        for entry in (ours, theirs, ancestor):
            if entry is not None:
                paths.add(entry.path)
                break
    return sorted(paths)


def exists_in_workdir(root: Path, path: str) -> bool:
    return os.path.lexists(root / path)
