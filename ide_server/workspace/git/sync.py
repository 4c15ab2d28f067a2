"""Network operations against the project's remote: fetch, pull and push.

Each runs in a worker thread (the RPC layer uses ``asyncio.to_thread``); progress and
cancellation go through :class:`~.credentials.RemoteSession`. libgit2 writes a fetched
pack to a temporary file and moves references only after the pack is complete, so a
cancelled or failed transfer leaves the repository as it was.
"""

from __future__ import annotations

import threading
from typing import Any

import pygit2
from pygit2.enums import FetchPrune

from ..config import PodConfig
from ..rpc import RpcError
from .branches import set_upstream, upstream_branch
from .credentials import ProgressSink, RemoteSession
from .errors import PUSH_REJECTED, WRONG_STATE, not_found, scrub, translate_network_error
from .merge import merge_into_head
from .protected import refuse_moving_protected
from .remote import FETCH_REFSPEC, project_remote, proxy_setting, tracking_ref
from .repo import head_branch
from .worktree import refuse_during_merge

PUSH_REJECTED_HINT = "the remote branch has commits you do not have; pull first, then push"


def remote_session(
    config: PodConfig,
    operation: str,
    cancel_event: threading.Event | None = None,
    on_progress: ProgressSink | None = None,
) -> RemoteSession:
    return RemoteSession(
        config.git_url,
        config.git_token,
        operation=operation,
        cancel_event=cancel_event,
        on_progress=on_progress,
    )


def fetch(
    repo: pygit2.Repository, config: PodConfig, session: RemoteSession, *, prune: bool = False
) -> dict[str, Any]:
    """Update ``refs/remotes/origin/*`` from the project's remote."""
    remote = project_remote(repo, config.git_url)
    try:
        stats = remote.fetch(
            [FETCH_REFSPEC],
            callbacks=session,
            prune=FetchPrune.PRUNE if prune else FetchPrune.NO_PRUNE,
            proxy=proxy_setting(),
        )
    except Exception as exc:
        # ``from None``: the chained libgit2 exception is not needed and is never logged.
        raise translate_network_error(exc, config.git_url, [config.git_token]) from None
    return {"received_objects": stats.received_objects, "total_objects": stats.total_objects}


def pull(
    repo: pygit2.Repository,
    config: PodConfig,
    session: RemoteSession,
    source_branch: str | None,
) -> dict[str, Any]:
    """Fetch, then merge the upstream (or ``source_branch``, "pull from main") into HEAD."""
    branch = head_branch(repo)
    if branch is None:
        raise RpcError(WRONG_STATE, "HEAD is detached; check out a branch to pull")
    refuse_during_merge(repo, "pull")
    fetch(repo, config, session)
    source = source_branch or upstream_branch(repo, branch) or branch
    ref = repo.references.get(tracking_ref(source))
    if ref is None:
        if source_branch:
            raise not_found(f"branch origin/{source_branch} on the remote")
        return {"outcome": "no-upstream", "branch": branch, "source": None, "conflicts": []}
    result = merge_into_head(repo, config, branch, ref)
    return {**result, "branch": branch, "source": f"origin/{source}"}


def push(repo: pygit2.Repository, config: PodConfig, session: RemoteSession) -> dict[str, Any]:
    """Push the current branch; the first push of a branch records its upstream."""
    branch = head_branch(repo)
    if branch is None:
        raise RpcError(WRONG_STATE, "HEAD is detached; check out a branch to push")
    if repo.head_is_unborn:
        raise RpcError(WRONG_STATE, "nothing to push yet; commit first")
    upstream = upstream_branch(repo, branch)
    remote_branch = upstream or branch
    tip = repo.head.peel(pygit2.Commit).id
    refuse_moving_protected(repo, config, remote_branch, "pushing to it", tip)
    remote = project_remote(repo, config.git_url)
    try:
        remote.push(
            [f"refs/heads/{branch}:refs/heads/{remote_branch}"],
            callbacks=session,
            proxy=proxy_setting(),
        )
    except pygit2.GitError as exc:
        text = str(exc).lower()
        if "non-fastforward" in text or "not present locally" in text or "fast-forward" in text:
            raise RpcError(PUSH_REJECTED, PUSH_REJECTED_HINT) from None
        raise translate_network_error(exc, config.git_url, [config.git_token]) from None
    except Exception as exc:
        raise translate_network_error(exc, config.git_url, [config.git_token]) from None
    if session.rejections:
        reason = scrub("; ".join(session.rejections.values()), [config.git_token])
        raise RpcError(
            PUSH_REJECTED, f"the remote rejected the push ({reason}); {PUSH_REJECTED_HINT}"
        )
    head = repo.head.target
    # An anonymous remote does not move tracking refs itself.
    repo.references.create(tracking_ref(remote_branch), head, force=True)
    if upstream is None:
        set_upstream(repo, branch, remote_branch)
    return {
        "branch": branch,
        "remote_branch": f"origin/{remote_branch}",
        "commit": str(head),
        "upstream_set": upstream is None,
    }
