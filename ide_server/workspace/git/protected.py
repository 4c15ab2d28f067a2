"""The protected primary branch only ever holds what the remote's own branch holds.

One rule for every route that moves a branch (commit, revert, pull or merge into it,
creating it, pushing to it): with protection on, ``<default>`` may move only to a commit
that ``origin/<default>`` already contains (a fast-forward pull of the remote's own
branch), and nothing may be pushed to the remote's ``<default>`` that it does not already
have. Everything else is refused with PROTECTED_BRANCH and a patch-branch name to use
instead.

Until the remote has the branch at all there is nothing to protect: a new project's first
commit and its first push are allowed.
"""

from __future__ import annotations

import pygit2

from ..config import PodConfig
from ..rpc import RpcError
from .errors import PROTECTED_BRANCH
from .remote import tracking_ref

# ``new_tip`` for an operation that makes a commit of its own (commit, revert, merge).
NEW_COMMIT = None


def suggest_patch_branch(repo: pygit2.Repository, user: str) -> str:
    """The first free ``<user>-patch-<n>``, local or remote (as in the dbt Cloud IDE)."""
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in user).strip("-.") or "user"
    n = 1
    while (
        f"refs/heads/{slug}-patch-{n}" in repo.references
        or tracking_ref(f"{slug}-patch-{n}") in repo.references
    ):
        n += 1
    return f"{slug}-patch-{n}"


def is_protected(config: PodConfig, branch: str | None) -> bool:
    return config.protect_default_branch and branch == config.default_branch


def refuse_moving_protected(
    repo: pygit2.Repository,
    config: PodConfig,
    branch: str | None,
    action: str,
    new_tip: pygit2.Oid | None,
) -> None:
    """Refuse (PROTECTED_BRANCH) if ``action`` would leave ``branch`` where the remote's is not.

    ``branch`` is the local branch that moves, or for a push the remote branch written;
    ``new_tip`` is where it would point, or :data:`NEW_COMMIT`. Call it before anything
    is written, so that a refusal changes nothing.
    """
    if not is_protected(config, branch):
        return
    assert branch is not None
    remote = repo.references.get(tracking_ref(branch))
    if remote is None:
        if new_tip is not None or f"refs/heads/{branch}" not in repo.references:
            return  # the project's first commit and first push
    elif new_tip is not None and (
        new_tip == remote.target or repo.descendant_of(remote.target, new_tip)
    ):
        return
    suggestion = suggest_patch_branch(repo, config.user)
    raise RpcError(
        PROTECTED_BRANCH,
        f"{branch} is the project's protected primary branch and only follows origin/{branch}; "
        f"{action} is not allowed on it. Work on a new branch such as {suggestion} and open "
        "a pull request",
        {"branch": branch, "suggested_branch": suggestion},
    )
