"""The ``git/*`` JSON-RPC methods (documented in docs/protocol.md).

Every repository call runs in a worker thread so the pod keeps answering other requests
(file saves, previews, heartbeats) during a slow status scan or a long push. Methods that
change the repository hold the workspace's git lock; ``git/cancel`` does not, so it can
stop the operation that holds it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pygit2

from ..config import PodConfig
from ..errors import (
    ALREADY_EXISTS,
    AUTH_FAILED,
    BUSY,
    CANCELLED,
    CERTIFICATE,
    EMPTY_MESSAGE,
    INVALID_PATH,
    NOT_FOUND,
    NOTHING_TO_COMMIT,
    PROTECTED_BRANCH,
    PUSH_REJECTED,
    REMOTE_REFUSED,
    RESERVED_PATHS,
    UNCOMMITTED_CHANGES,
    UNRESOLVED_CONFLICTS,
    WRONG_STATE,
)
from ..rpc import Context, MethodRegistry
from . import branches, commit, diff, history, merge, status, sync, worktree
from . import results as r
from .background import NOTIFICATION
from .credentials import ProgressSink, configure_tls
from .params import (
    CheckoutParams,
    CommitParams,
    CreateBranchParams,
    DiffParams,
    FetchParams,
    LogParams,
    NoParams,
    PathsParams,
    PruneParams,
    PullParams,
    RefreshRemoteParams,
    ResolveParams,
    RevertParams,
    pull_source,
)
from .pullrequest import pull_request_url
from .repo import head_branch, open_repository

log = logging.getLogger(__name__)
methods = MethodRegistry()
methods.notification("git/changed", r.GitChanged)
methods.notification("git/progress", r.GitProgress)
methods.notification(NOTIFICATION, r.RemoteFetch)
T = TypeVar("T")

# Error codes by kind of method: every call opens the checkout (WRONG_STATE when it is
# not one); writes wait for the git lock (BUSY); network calls add the remote's failures.
_READ = (WRONG_STATE,)
_WRITE = (WRONG_STATE, BUSY)
_NETWORK = (*_WRITE, AUTH_FAILED, CERTIFICATE, REMOTE_REFUSED, CANCELLED)
_MERGE = (UNCOMMITTED_CHANGES, UNRESOLVED_CONFLICTS)
# Methods that write a tree to the working tree or move a branch (git/reserved.py,
# git/protected.py).
_TREE = (RESERVED_PATHS,)
_MOVES = (PROTECTED_BRANCH,)


def _run_on_repo(root: Path, work: Callable[[pygit2.Repository], T]) -> T:
    repo = open_repository(root)
    try:
        return work(repo)
    finally:
        repo.free()  # release pack file handles now, not at garbage collection


async def _read(ctx: Context, work: Callable[[pygit2.Repository], T]) -> T:
    return await asyncio.to_thread(_run_on_repo, ctx.workspace.root, work)


async def _write(ctx: Context, operation: str, work: Callable[[pygit2.Repository], T]) -> T:
    async with ctx.workspace.git.exclusive(operation):
        result = await asyncio.to_thread(_run_on_repo, ctx.workspace.root, work)
    await _announce(ctx, operation)
    return result


async def _announce(ctx: Context, operation: str) -> None:
    """Reload open documents from disk, then tell the other tabs to refresh their panel."""
    await ctx.workspace.files_changed_on_disk()
    try:
        await ctx.broadcast("git/changed", {"op": operation})
    except Exception:  # a closing socket must not turn a done operation into an error
        log.debug("git/changed broadcast failed", exc_info=True)


def _progress_to(ctx: Context) -> ProgressSink:
    """A thread-safe sink that forwards progress to the calling client as notifications."""
    loop = asyncio.get_running_loop()

    def emit(params: dict[str, Any]) -> None:
        asyncio.run_coroutine_threadsafe(ctx.client.notify("git/progress", params), loop)

    return emit


async def _network(
    ctx: Context,
    operation: str,
    work: Callable[[pygit2.Repository, sync.RemoteSession], T],
) -> T:
    config: PodConfig = ctx.workspace.config
    configure_tls()
    state = ctx.workspace.git
    progress = _progress_to(ctx)

    async with state.exclusive(operation) as cancel_event:
        session = sync.remote_session(config, operation, cancel_event, progress)
        result = await asyncio.to_thread(
            _run_on_repo, ctx.workspace.root, lambda repo: work(repo, session)
        )
    await _announce(ctx, operation)
    return result


@methods.method("git/status", NoParams, result=r.GitStatus, errors=_READ)
async def git_status(ctx: Context, params: NoParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _read(ctx, lambda repo: status.repository_status(repo, config))


@methods.method("git/diff", DiffParams, result=r.DiffResult, errors=(*_READ, INVALID_PATH))
async def git_diff(ctx: Context, params: DiffParams) -> dict[str, Any]:
    root = ctx.workspace.root
    path = None if params.path is None else worktree.check_paths(root, [params.path])[0]
    return await _read(ctx, lambda repo: diff.diff_files(repo, root, path, staged=params.staged))


@methods.method(
    "git/stage",
    PathsParams,
    result=r.PathsResult,
    writes=True,
    errors=(*_WRITE, INVALID_PATH, UNRESOLVED_CONFLICTS),
)
async def git_stage(ctx: Context, params: PathsParams) -> dict[str, Any]:
    root = ctx.workspace.root
    paths = await _write(ctx, "stage", lambda repo: worktree.stage(repo, root, params.paths))
    return {"paths": paths}


@methods.method(
    "git/unstage", PathsParams, result=r.PathsResult, writes=True, errors=(*_WRITE, INVALID_PATH)
)
async def git_unstage(ctx: Context, params: PathsParams) -> dict[str, Any]:
    root = ctx.workspace.root
    paths = await _write(ctx, "unstage", lambda repo: worktree.unstage(repo, root, params.paths))
    return {"paths": paths}


@methods.method(
    "git/discard",
    PathsParams,
    result=r.PathsResult,
    writes=True,
    errors=(*_WRITE, INVALID_PATH, *_TREE),
)
async def git_discard(ctx: Context, params: PathsParams) -> dict[str, Any]:
    root = ctx.workspace.root
    paths = await _write(ctx, "discard", lambda repo: worktree.discard(repo, root, params.paths))
    return {"paths": paths}


@methods.method(
    "git/commit",
    CommitParams,
    result=r.CommitResult,
    writes=True,
    errors=(
        *_WRITE,
        INVALID_PATH,
        EMPTY_MESSAGE,
        NOTHING_TO_COMMIT,
        PROTECTED_BRANCH,
        UNRESOLVED_CONFLICTS,
    ),
)
async def git_commit(ctx: Context, params: CommitParams) -> dict[str, Any]:
    root, config = ctx.workspace.root, ctx.workspace.config
    return await _write(
        ctx,
        "commit",
        lambda repo: commit.commit_changes(repo, root, config, params.message, params.paths),
    )


@methods.method("git/branches", NoParams, result=r.Branches, errors=_READ)
async def git_branches(ctx: Context, params: NoParams) -> dict[str, Any]:
    listed = await _read(ctx, branches.list_branches)
    return {**listed, "fetch": ctx.workspace.remote_fetch.current()}


@methods.method("git/refresh_remote", RefreshRemoteParams, result=r.RemoteFetch, writes=True)
async def git_refresh_remote(ctx: Context, params: RefreshRemoteParams) -> dict[str, Any]:
    # No lock here: the fetch takes the git lock only for its last, local step.
    running = ctx.workspace.remote_fetch.start()
    if params.wait:
        return await asyncio.shield(running)
    return ctx.workspace.remote_fetch.current()


@methods.method(
    "git/create_branch",
    CreateBranchParams,
    result=r.CreateBranchResult,
    writes=True,
    errors=(*_WRITE, ALREADY_EXISTS, NOT_FOUND, UNCOMMITTED_CHANGES, *_TREE, *_MOVES),
)
async def git_create_branch(ctx: Context, params: CreateBranchParams) -> dict[str, Any]:
    base = params.base or ctx.workspace.config.default_branch
    return await _write(
        ctx,
        "create_branch",
        lambda repo: branches.create_branch(
            repo, ctx.workspace.config, params.name, base, checkout=params.checkout
        ),
    )


@methods.method(
    "git/checkout",
    CheckoutParams,
    result=r.CheckoutResult,
    writes=True,
    errors=(*_WRITE, NOT_FOUND, UNCOMMITTED_CHANGES, *_TREE),
)
async def git_checkout(ctx: Context, params: CheckoutParams) -> dict[str, Any]:
    return await _write(ctx, "checkout", lambda repo: branches.checkout_branch(repo, params.branch))


@methods.method("git/fetch", FetchParams, result=r.FetchResult, writes=True, errors=_NETWORK)
async def git_fetch(ctx: Context, params: FetchParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _network(
        ctx, "fetch", lambda repo, s: sync.fetch(repo, config, s, prune=params.prune)
    )


@methods.method("git/prune", PruneParams, result=r.PruneResult, writes=True, errors=_NETWORK)
async def git_prune(ctx: Context, params: PruneParams) -> dict[str, Any]:
    config = ctx.workspace.config

    def work(repo: pygit2.Repository, session: sync.RemoteSession) -> dict[str, Any]:
        sync.fetch(repo, config, session, prune=True)
        return branches.prune_gone_branches(repo, dry_run=params.dry_run)

    return await _network(ctx, "fetch", work)


@methods.method(
    "git/pull",
    PullParams,
    result=r.PullResult,
    writes=True,
    errors=(*_NETWORK, NOT_FOUND, *_MERGE, *_TREE, *_MOVES),
)
async def git_pull(ctx: Context, params: Any) -> dict[str, Any]:
    config, source = ctx.workspace.config, pull_source(params)
    return await _network(ctx, "pull", lambda repo, s: sync.pull(repo, config, s, source))


@methods.method(
    "git/push",
    NoParams,
    result=r.PushResult,
    writes=True,
    errors=(*_NETWORK, PUSH_REJECTED, *_MOVES),
)
async def git_push(ctx: Context, params: NoParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _network(ctx, "push", lambda repo, s: sync.push(repo, config, s))


@methods.method("git/cancel", NoParams, result=r.GitCancelResult, writes=True)
async def git_cancel(ctx: Context, params: NoParams) -> dict[str, Any]:
    cancelled = ctx.workspace.git.cancel()
    return {"cancelled": cancelled}


@methods.method(
    "git/resolve",
    ResolveParams,
    result=r.ResolveResult,
    writes=True,
    errors=(*_WRITE, INVALID_PATH, UNRESOLVED_CONFLICTS),
)
async def git_resolve(ctx: Context, params: ResolveParams) -> dict[str, Any]:
    root = ctx.workspace.root
    return await _write(
        ctx, "resolve", lambda repo: merge.resolve(repo, root, params.path, force=params.force)
    )


@methods.method(
    "git/abort_merge", NoParams, result=r.AbortMergeResult, writes=True, errors=(*_WRITE, *_TREE)
)
async def git_abort_merge(ctx: Context, params: NoParams) -> dict[str, Any]:
    root = ctx.workspace.root
    return await _write(ctx, "abort_merge", lambda repo: merge.abort_merge(repo, root))


@methods.method("git/log", LogParams, result=r.LogResult, errors=(*_READ, INVALID_PATH, NOT_FOUND))
async def git_log(ctx: Context, params: LogParams) -> dict[str, Any]:
    root = ctx.workspace.root
    path = None if params.path is None else worktree.check_paths(root, [params.path])[0]
    return await _read(
        ctx,
        lambda repo: history.log(
            repo, path=path, ref=params.ref, skip=max(params.skip, 0), limit=params.limit
        ),
    )


@methods.method("git/pull_request_url", NoParams, result=r.PullRequestUrl, errors=_READ)
async def git_pull_request_url(ctx: Context, params: NoParams) -> dict[str, Any]:
    config = ctx.workspace.config

    def build(repo: pygit2.Repository) -> dict[str, Any]:
        branch = head_branch(repo)
        base = config.default_branch
        url, provider = (
            pull_request_url(
                config.git_url,
                branch,
                base,
                provider=config.git_provider,
                web_url=config.git_web_url,
            )
            if branch
            else (None, None)
        )
        return {"url": url, "provider": provider, "branch": branch, "base": base}

    return await _read(ctx, build)


@methods.method("git/show", RevertParams, result=r.ShowResult, errors=(*_READ, NOT_FOUND))
async def git_show(ctx: Context, params: RevertParams) -> dict[str, Any]:
    return await _read(ctx, lambda repo: history.show(repo, params.commit))


@methods.method(
    "git/revert",
    RevertParams,
    result=r.RevertResult,
    writes=True,
    errors=(*_WRITE, NOT_FOUND, NOTHING_TO_COMMIT, PROTECTED_BRANCH, *_MERGE, *_TREE),
)
async def git_revert(ctx: Context, params: RevertParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _write(ctx, "revert", lambda repo: history.revert(repo, config, params.commit))
