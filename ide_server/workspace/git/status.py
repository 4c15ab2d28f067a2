"""``git/status``: changed files, the branch and how far it is from its upstream."""

from __future__ import annotations

from typing import Any

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, DiffOption, FileStatus, RepositoryState

from ..config import PodConfig
from .branches import ahead_behind
from .repo import head_branch
from .worktree import changed_paths

INDEX_FLAGS = (
    FileStatus.INDEX_NEW
    | FileStatus.INDEX_MODIFIED
    | FileStatus.INDEX_DELETED
    | FileStatus.INDEX_RENAMED
    | FileStatus.INDEX_TYPECHANGE
)
WORKTREE_FLAGS = (
    FileStatus.WT_NEW
    | FileStatus.WT_MODIFIED
    | FileStatus.WT_DELETED
    | FileStatus.WT_RENAMED
    | FileStatus.WT_TYPECHANGE
)


def file_state(flags: int) -> str:
    """One word per file, in the order of what matters most to the user."""
    if flags & FileStatus.CONFLICTED:
        return "conflicted"
    if flags & (FileStatus.INDEX_DELETED | FileStatus.WT_DELETED):
        return "deleted"
    if flags & FileStatus.INDEX_NEW:
        return "added"
    if flags & FileStatus.WT_NEW:
        return "untracked"
    return "modified"


def repository_status(repo: pygit2.Repository, config: PodConfig) -> dict[str, Any]:
    changed = changed_paths(repo)
    files = [
        {
            "path": path,
            "status": file_state(flags),
            "staged": bool(flags & INDEX_FLAGS),
            "unstaged": bool(flags & WORKTREE_FLAGS),
        }
        for path, flags in changed.items()
    ]
    files = _pair_renames(repo, files, changed)
    files.sort(key=lambda f: str(f["path"]))
    branch = head_branch(repo)
    upstream, ahead, behind, gone = (
        (None, 0, 0, False) if branch is None else ahead_behind(repo, branch)
    )
    merging = repo.state() != RepositoryState.NONE
    result: dict[str, Any] = {
        "branch": branch,
        "head": None if repo.head_is_unborn else str(repo.head.target),
        "upstream": upstream,
        "upstream_gone": gone,
        "ahead": ahead,
        "behind": behind,
        "merging": merging,
        "default_branch": config.default_branch,
        "protected": config.protect_default_branch and branch == config.default_branch,
        "files": files,
    }
    if merging:
        result["merge_message"] = repo.message
    return result


def _pair_renames(
    repo: pygit2.Repository, files: list[dict[str, Any]], changed: dict[str, int]
) -> list[dict[str, Any]]:
    """Report a delete plus an add of similar content as one rename.

    Only computed when both a deleted and a new file exist, so the common case costs
    nothing beyond the status scan itself.
    """
    deleted = {
        p for p, f in changed.items() if f & (FileStatus.INDEX_DELETED | FileStatus.WT_DELETED)
    }
    added = {p for p, f in changed.items() if f & (FileStatus.INDEX_NEW | FileStatus.WT_NEW)}
    if not deleted or not added or repo.head_is_unborn:
        return files
    head_tree = repo.head.peel(pygit2.Commit).tree
    # Diff HEAD against the working tree (through the index) to see both kinds of rename.
    diff = head_tree.diff_to_workdir(
        flags=DiffOption.INCLUDE_UNTRACKED | DiffOption.RECURSE_UNTRACKED_DIRS
    )
    diff.find_similar(flags=DiffFind.FIND_RENAMES | DiffFind.FIND_FOR_UNTRACKED)
    renames = {
        d.new_file.path: d.old_file.path
        for d in diff.deltas
        if d.status == DeltaStatus.RENAMED
        and d.old_file.path in deleted
        and d.new_file.path in added
    }
    if not renames:
        return files
    olds = set(renames.values())
    paired = []
    for entry in files:
        if entry["path"] in olds:
            continue
        if entry["path"] in renames:
            entry = {**entry, "status": "renamed", "old_path": renames[entry["path"]]}
        paired.append(entry)
    return paired
