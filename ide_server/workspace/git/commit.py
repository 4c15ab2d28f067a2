"""``git/commit``: the protected primary branch, empty commits and merge commits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import RepositoryState

from ..config import PodConfig
from ..rpc import RpcError
from .errors import EMPTY_MESSAGE, NOTHING_TO_COMMIT, UNRESOLVED_CONFLICTS, WRONG_STATE
from .protected import NEW_COMMIT, refuse_moving_protected
from .repo import head_branch, signature
from .worktree import conflicted_paths, stage


def current_branch_for_commit(
    repo: pygit2.Repository, config: PodConfig, action: str = "committing"
) -> str:
    """The branch a new commit would land on; refuses detached HEAD and the protected branch."""
    branch = head_branch(repo)
    if branch is None:
        raise RpcError(WRONG_STATE, "HEAD is detached; check out a branch to commit")
    refuse_moving_protected(repo, config, branch, action, NEW_COMMIT)
    return branch


def commit_changes(
    repo: pygit2.Repository,
    root: Path,
    config: PodConfig,
    message: str,
    paths: list[str] | None,
) -> dict[str, Any]:
    """Stage ``paths`` (default: everything changed) and commit the index on HEAD's branch."""
    if not message.strip():
        raise RpcError(EMPTY_MESSAGE, "write a commit message first")
    branch = current_branch_for_commit(repo, config)
    conflicts = conflicted_paths(repo.index)
    if conflicts:
        raise RpcError(
            UNRESOLVED_CONFLICTS,
            f"resolve the conflicts in {len(conflicts)} file(s) before committing",
            {"files": conflicts},
        )
    stage(repo, root, paths)
    tree = repo.index.write_tree()
    merging = repo.state() == RepositoryState.MERGE
    parents = [] if repo.head_is_unborn else [repo.head.target]
    if merging:
        parents += repo.listall_mergeheads()
    elif parents and repo[parents[0]].peel(pygit2.Commit).tree_id == tree:
        raise RpcError(NOTHING_TO_COMMIT, "there are no changes to commit")
    elif not parents and len(repo.index) == 0:
        raise RpcError(NOTHING_TO_COMMIT, "there are no changes to commit")
    author = signature(config)
    oid = repo.create_commit("HEAD", author, author, message.rstrip() + "\n", tree, parents)
    if repo.state() != RepositoryState.NONE:
        repo.state_cleanup()
    return {"commit": str(oid), "branch": branch}
