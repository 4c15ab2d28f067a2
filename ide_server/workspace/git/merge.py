"""Merging into HEAD, resolving conflicts per file, and aborting a merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import MergeAnalysis, RepositoryState

from ..config import PodConfig
from ..rpc import INVALID_PARAMS, RpcError
from .errors import UNCOMMITTED_CHANGES, UNRESOLVED_CONFLICTS, WRONG_STATE
from .protected import NEW_COMMIT, refuse_moving_protected
from .repo import signature
from .reserved import refuse_reserved_entries
from .worktree import (
    changed_paths,
    check_paths,
    conflicted_paths,
    exists_in_workdir,
    restore_from_head,
    safe_checkout,
)

MARKER_PREFIXES = ("<<<<<<<", ">>>>>>>")


def merge_into_head(
    repo: pygit2.Repository, config: PodConfig, branch: str, source: pygit2.Reference
) -> dict[str, Any]:
    """Fast-forward when possible, else merge; conflicts stay in the tree for the user."""
    theirs = source.peel(pygit2.Commit)
    action = f"pulling {source.shorthand} into it"
    if repo.head_is_unborn:
        refuse_moving_protected(repo, config, branch, action, theirs.id)
        safe_checkout(repo, theirs.tree, "pulling")
        repo.references.create(f"refs/heads/{branch}", theirs.id, force=True)
        return {"outcome": "fast-forward", "commit": str(theirs.id), "conflicts": []}
    analysis, _ = repo.merge_analysis(theirs.id)
    if analysis & MergeAnalysis.UP_TO_DATE:
        return {"outcome": "up-to-date", "commit": str(repo.head.target), "conflicts": []}
    if analysis & MergeAnalysis.FASTFORWARD:
        refuse_moving_protected(repo, config, branch, action, theirs.id)
        safe_checkout(repo, theirs.tree, "pulling")
        repo.references[f"refs/heads/{branch}"].set_target(theirs.id, "pull: fast-forward")
        return {"outcome": "fast-forward", "commit": str(theirs.id), "conflicts": []}
    refuse_moving_protected(repo, config, branch, action, NEW_COMMIT)
    _refuse_overlapping_changes(repo, theirs)
    _refuse_reserved_merge(repo, theirs, f"merging {source.shorthand}")
    repo.merge(source)
    conflicts = conflicted_paths(repo.index)
    if conflicts:
        return {
            "outcome": "conflicts",
            "commit": str(repo.head.target),
            "conflicts": conflicts,
            "message": repo.message,
        }
    tree = repo.index.write_tree()
    author = signature(config)
    message = repo.message or f"Merge {source.shorthand} into {branch}\n"
    oid = repo.create_commit("HEAD", author, author, message, tree, [repo.head.target, theirs.id])
    repo.state_cleanup()
    return {"outcome": "merged", "commit": str(oid), "conflicts": []}


def _refuse_reserved_merge(repo: pygit2.Repository, theirs: pygit2.Commit, action: str) -> None:
    """What ``repo.merge`` would write passes the same reserved-path check as a checkout.

    Their tree first (libgit2 itself stops at some names), then the merge result computed
    in memory, conflict sides included: a symlink on one side and a folder of the same
    folded name on the other only meet there.
    """
    refuse_reserved_entries(repo, theirs.tree, action)
    head = repo.head.peel(pygit2.Commit)
    refuse_reserved_entries(repo, repo.merge_commits(head, theirs), action)


def _refuse_overlapping_changes(repo: pygit2.Repository, theirs: pygit2.Commit) -> None:
    """Like git: no merge over staged work, nor over edits to files the merge changes."""
    head = repo.head.peel(pygit2.Commit)
    staged = repo.index.diff_to_tree(head.tree)
    staged_paths = sorted({d.new_file.path for d in staged.deltas})
    if staged_paths:
        raise RpcError(
            UNCOMMITTED_CHANGES,
            "commit or unstage your staged changes before merging",
            {"files": staged_paths},
        )
    base_id = repo.merge_base(head.id, theirs.id)
    base_tree = repo[base_id].peel(pygit2.Commit).tree if base_id else None
    incoming = base_tree.diff_to_tree(theirs.tree) if base_tree is not None else None
    touched = (
        {p for d in incoming.deltas for p in (d.old_file.path, d.new_file.path)}
        if incoming is not None
        else set(changed_paths(repo))
    )
    overlap = sorted(set(changed_paths(repo)) & touched)
    if overlap:
        raise RpcError(
            UNCOMMITTED_CHANGES,
            f"the merge changes {len(overlap)} file(s) you have edited; commit or discard "
            "those edits first",
            {"files": overlap},
        )


def resolve(repo: pygit2.Repository, root: Path, path: str, *, force: bool) -> dict[str, Any]:
    """Mark one conflicted file resolved with its current content (or deletion)."""
    (path,) = check_paths(root, [path])
    index = repo.index
    if path not in conflicted_paths(index):
        raise RpcError(INVALID_PARAMS, f"{path} has no conflict to resolve")
    if exists_in_workdir(root, path):
        if not force:
            _refuse_markers(root, path)
        index.add(path)
    else:
        index.remove(path)
    index.write()
    return {"path": path, "remaining": conflicted_paths(index)}


def _refuse_markers(root: Path, path: str) -> None:
    try:
        text = (root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # binary: the user chose a side, nothing to scan
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith(MARKER_PREFIXES)]
    if lines:
        raise RpcError(
            UNRESOLVED_CONFLICTS,
            f"{path} still contains conflict markers (line {lines[0]}); edit them out, "
            "or pass force to keep the file as it is",
            {"files": [path], "lines": lines},
        )


def abort_merge(repo: pygit2.Repository, root: Path) -> dict[str, Any]:
    """Return the files the merge touched, and the index, to HEAD; keep unrelated edits."""
    if repo.state() == RepositoryState.NONE:
        raise RpcError(WRONG_STATE, "no merge is in progress")
    head_tree = repo.head.peel(pygit2.Commit).tree
    index = repo.index
    touched = set(conflicted_paths(index))
    touched |= {
        p for d in index.diff_to_tree(head_tree).deltas for p in (d.old_file.path, d.new_file.path)
    }
    index.read_tree(head_tree)
    index.write()
    restore = sorted(p for p in touched if p in head_tree)
    if restore:
        restore_from_head(repo, restore, "aborting the merge")
    for path in sorted(touched - set(restore)):
        target = root / path
        if target.is_file() or target.is_symlink():
            target.unlink()  # added by the merge
    repo.state_cleanup()
    return {"aborted": True, "restored": sorted(touched)}
