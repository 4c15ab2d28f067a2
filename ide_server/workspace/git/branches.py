"""Branches: list, create, check out, upstreams, pruning and patch-branch names."""

from __future__ import annotations

from typing import Any

import pygit2

from ..config import PodConfig
from ..rpc import ALREADY_EXISTS, INVALID_PARAMS, RpcError
from .errors import not_found
from .protected import refuse_moving_protected
from .remote import REMOTE_NAME, TRACKING_PREFIX, tracking_ref
from .repo import head_branch
from .worktree import refuse_during_merge, safe_checkout


def upstream_branch(repo: pygit2.Repository, branch: str) -> str | None:
    """The remote branch name ``branch`` tracks (from ``branch.<name>.merge``), if any."""
    try:
        remote = repo.config[f"branch.{branch}.remote"]
        merge = repo.config[f"branch.{branch}.merge"]
    except KeyError:
        return None
    if remote != REMOTE_NAME or not merge or not merge.startswith("refs/heads/"):
        return None
    return merge.removeprefix("refs/heads/")


def set_upstream(repo: pygit2.Repository, branch: str, remote_branch: str) -> None:
    # Written directly: libgit2's helper insists on a configured remote whose refspec
    # matches, which a checkout made elsewhere may not have.
    repo.config[f"branch.{branch}.remote"] = REMOTE_NAME
    repo.config[f"branch.{branch}.merge"] = f"refs/heads/{remote_branch}"


def ahead_behind(repo: pygit2.Repository, branch: str) -> tuple[str | None, int, int, bool]:
    """(upstream short name, ahead, behind, gone) of a local branch."""
    upstream = upstream_branch(repo, branch)
    if upstream is None:
        return None, 0, 0, False
    local = repo.references.get(f"refs/heads/{branch}")
    remote = repo.references.get(tracking_ref(upstream))
    if remote is None:
        return f"{REMOTE_NAME}/{upstream}", 0, 0, True
    if local is None:  # unborn branch
        return f"{REMOTE_NAME}/{upstream}", 0, 0, False
    ahead, behind = repo.ahead_behind(local.target, remote.target)
    return f"{REMOTE_NAME}/{upstream}", ahead, behind, False


def list_branches(repo: pygit2.Repository) -> dict[str, Any]:
    local = []
    for name in sorted(repo.branches.local):
        ref = repo.references[f"refs/heads/{name}"]
        upstream, ahead, behind, gone = ahead_behind(repo, name)
        local.append(
            {
                "name": name,
                "commit": str(ref.target),
                "upstream": upstream,
                "ahead": ahead,
                "behind": behind,
                "gone": gone,
            }
        )
    remote = []
    for ref_name in sorted(repo.references):
        if ref_name.startswith(TRACKING_PREFIX) and not ref_name.endswith("/HEAD"):
            target = repo.references[ref_name].resolve().target
            remote.append({"name": ref_name.removeprefix("refs/remotes/"), "commit": str(target)})
    return {"current": head_branch(repo), "local": local, "remote": remote}


def check_branch_name(name: str) -> None:
    if not name or not pygit2.reference_is_valid_name(f"refs/heads/{name}") or name == "HEAD":
        raise RpcError(INVALID_PARAMS, f"{name!r} is not a valid branch name")


def resolve_base(repo: pygit2.Repository, base: str) -> pygit2.Commit:
    """A local branch ``base``, else the remote branch ``origin/base``, else ``base`` as given."""
    for ref_name in (f"refs/heads/{base}", tracking_ref(base), f"refs/remotes/{base}"):
        ref = repo.references.get(ref_name)
        if ref is not None:
            return ref.peel(pygit2.Commit)
    raise not_found(f"base branch {base!r}")


def create_branch(
    repo: pygit2.Repository, config: PodConfig, name: str, base: str, *, checkout: bool
) -> dict[str, Any]:
    """Create ``name`` at ``base`` and, by default, switch to it carrying uncommitted work."""
    check_branch_name(name)
    if f"refs/heads/{name}" in repo.references:
        raise RpcError(ALREADY_EXISTS, f"branch {name!r} already exists")
    commit = resolve_base(repo, base)
    refuse_moving_protected(repo, config, name, f"creating it from {base}", commit.id)
    if checkout:
        refuse_during_merge(repo, "switch branches")
    repo.branches.local.create(name, commit)
    if checkout:
        try:
            _switch(repo, name, commit)
        except BaseException:
            # Leave no trace of a branch the user never got onto.
            repo.branches.local.delete(name)
            raise
    return {"branch": name, "commit": str(commit.id), "base": base}


def checkout_branch(repo: pygit2.Repository, branch: str) -> dict[str, Any]:
    """Switch to a local branch, or create one tracking ``origin/<branch>``."""
    refuse_during_merge(repo, "switch branches")
    if branch.startswith(f"{REMOTE_NAME}/") and f"refs/heads/{branch}" not in repo.references:
        branch = branch.removeprefix(f"{REMOTE_NAME}/")
    local = repo.references.get(f"refs/heads/{branch}")
    created = False
    if local is None:
        remote = repo.references.get(tracking_ref(branch))
        if remote is None:
            raise not_found(f"branch {branch!r}")
        commit = remote.peel(pygit2.Commit)
        repo.branches.local.create(branch, commit)
        set_upstream(repo, branch, branch)
        created = True
    else:
        commit = local.peel(pygit2.Commit)
    try:
        _switch(repo, branch, commit)
    except BaseException:
        if created:
            # Deleting the branch also drops its branch.<name>.* settings.
            repo.branches.local.delete(branch)
            for key in (f"branch.{branch}.remote", f"branch.{branch}.merge"):
                if key in repo.config:
                    del repo.config[key]
        raise
    return {"branch": branch, "commit": str(commit.id)}


def _switch(repo: pygit2.Repository, branch: str, commit: pygit2.Commit) -> None:
    if head_branch(repo) == branch:
        return
    safe_checkout(repo, commit.tree, f"switching to {branch}")
    repo.set_head(f"refs/heads/{branch}")


def prune_gone_branches(repo: pygit2.Repository, *, dry_run: bool) -> dict[str, Any]:
    """Delete local branches whose upstream vanished from the remote (after a pruning fetch).

    A branch with commits that no remote branch contains is kept: deleting it would
    lose work that exists nowhere else.
    """
    current = head_branch(repo)
    remote_tips = [
        repo.references[r].resolve().target
        for r in repo.references
        if r.startswith(TRACKING_PREFIX) and not r.endswith("/HEAD")
    ]
    deleted: list[str] = []
    kept: list[dict[str, str]] = []
    for name in sorted(repo.branches.local):
        upstream, _, _, gone = ahead_behind(repo, name)
        if not gone:
            continue
        tip = repo.references[f"refs/heads/{name}"].target
        if name == current:
            kept.append({"name": name, "reason": "it is the current branch"})
        elif not any(t == tip or repo.descendant_of(t, tip) for t in remote_tips):
            kept.append({"name": name, "reason": "it has commits that are on no remote branch"})
        else:
            deleted.append(name)
            if not dry_run:
                repo.branches.local.delete(name)
    return {"deleted": deleted, "kept": kept, "dry_run": dry_run}
