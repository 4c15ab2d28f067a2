"""``git/log`` (paginated, optionally for one file), ``git/show`` and ``git/revert``."""

from __future__ import annotations

from typing import Any

import pygit2
from pygit2.enums import SortMode

from ..config import PodConfig
from .commit import current_branch_for_commit
from .diff import commit_files
from .errors import NOTHING_TO_COMMIT, UNRESOLVED_CONFLICTS, not_found, rpc_error
from .repo import signature
from .reserved import refuse_reserved_entries
from .worktree import conflicted_paths, refuse_during_merge, safe_checkout

MAX_PAGE = 200


def _person(sig: pygit2.Signature) -> dict[str, Any]:
    return {"name": sig.name, "email": sig.email, "time": sig.time, "offset": sig.offset}


def describe_commit(commit: pygit2.Commit) -> dict[str, Any]:
    return {
        "id": str(commit.id),
        "short_id": str(commit.short_id),
        "summary": commit.message.split("\n", 1)[0],
        "message": commit.message,
        "author": _person(commit.author),
        "committer": _person(commit.committer),
        "parents": [str(p) for p in commit.parent_ids],
    }


def _entry_id(tree: pygit2.Tree, path: str) -> pygit2.Oid | None:
    try:
        return tree[path].id
    except KeyError:
        return None


def _touches(commit: pygit2.Commit, path: str) -> bool:
    """Whether ``commit`` changed ``path`` against every parent (git's default simplification)."""
    mine = _entry_id(commit.tree, path)
    if not commit.parents:
        return mine is not None
    return all(_entry_id(parent.tree, path) != mine for parent in commit.parents)


def log(
    repo: pygit2.Repository, *, path: str | None, ref: str | None, skip: int, limit: int
) -> dict[str, Any]:
    """A page of history, newest first; ``next_skip`` is None on the last page."""
    limit = max(1, min(limit, MAX_PAGE))
    if ref:
        try:
            start = repo.revparse_single(ref).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise not_found(f"revision {ref!r}") from None
    elif repo.head_is_unborn:
        return {"commits": [], "next_skip": None}
    else:
        start = repo.head.peel(pygit2.Commit)
    commits: list[dict[str, Any]] = []
    seen = 0
    for commit in repo.walk(start.id, SortMode.TOPOLOGICAL | SortMode.TIME):
        if path is not None and not _touches(commit, path):
            continue
        if seen >= skip:
            if len(commits) == limit:
                return {"commits": commits, "next_skip": skip + limit}
            commits.append(describe_commit(commit))
        seen += 1
    return {"commits": commits, "next_skip": None}


def show(repo: pygit2.Repository, commit_id: str) -> dict[str, Any]:
    """One commit and its diff against its first parent (``git show``)."""
    try:
        target = repo.revparse_single(commit_id).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        raise not_found(f"commit {commit_id!r}") from None
    return {"commit": describe_commit(target), "files": commit_files(repo, target)}


def revert(repo: pygit2.Repository, config: PodConfig, commit_id: str) -> dict[str, Any]:
    """Commit the inverse of one commit on the current branch.

    The revert is computed in memory first: if it conflicts with later changes, or would
    overwrite uncommitted work, nothing on disk or in the branch changes.
    """
    branch = current_branch_for_commit(repo, config, "reverting a commit")
    refuse_during_merge(repo, "revert")
    try:
        target = repo.revparse_single(commit_id).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        raise not_found(f"commit {commit_id!r}") from None
    head = repo.head.peel(pygit2.Commit)
    mainline = 1 if len(target.parents) > 1 else 0
    index = repo.revert_commit(target, head, mainline)
    refuse_reserved_entries(repo, index, f"reverting {target.short_id}")
    conflicts = conflicted_paths(index)
    if conflicts:
        raise rpc_error(
            UNRESOLVED_CONFLICTS,
            f"reverting {target.short_id} conflicts with later changes; nothing was changed",
            {"files": conflicts},
        )
    tree_id = index.write_tree(repo)
    if tree_id == head.tree_id:
        raise rpc_error(NOTHING_TO_COMMIT, f"reverting {target.short_id} changes nothing")
    tree = repo[tree_id]
    assert isinstance(tree, pygit2.Tree)
    safe_checkout(repo, tree, f"reverting {target.short_id}")
    summary = target.message.split("\n", 1)[0]
    message = f'Revert "{summary}"\n\nThis reverts commit {target.id}.\n'
    author = signature(config)
    oid = repo.create_commit("HEAD", author, author, message, tree_id, [head.id])
    return {"commit": str(oid), "reverted": str(target.id), "branch": branch}
