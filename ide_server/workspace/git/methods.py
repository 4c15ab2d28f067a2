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
from ..rpc import Context, MethodRegistry
from . import branches, commit, diff, history, merge, status, sync, worktree
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
    ResolveParams,
    RevertParams,
    pull_source,
)
from .repo import git_state, open_repository

log = logging.getLogger(__name__)
methods = MethodRegistry()
T = TypeVar("T")


def _run_on_repo(root: Path, work: Callable[[pygit2.Repository], T]) -> T:
    repo = open_repository(root)
    try:
        return work(repo)
    finally:
        repo.free()  # release pack file handles now, not at garbage collection


async def _read(ctx: Context, work: Callable[[pygit2.Repository], T]) -> T:
    return await asyncio.to_thread(_run_on_repo, ctx.workspace.root, work)


async def _write(ctx: Context, operation: str, work: Callable[[pygit2.Repository], T]) -> T:
    async with git_state(ctx.workspace.root).exclusive(operation):
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
    state = git_state(ctx.workspace.root)
    progress = _progress_to(ctx)

    async with state.exclusive(operation) as cancel_event:
        session = sync.remote_session(config, operation, cancel_event, progress)
        result = await asyncio.to_thread(
            _run_on_repo, ctx.workspace.root, lambda repo: work(repo, session)
        )
    await _announce(ctx, operation)
    return result


@methods.method("git/status", NoParams)
async def git_status(ctx: Context, params: NoParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _read(ctx, lambda repo: status.repository_status(repo, config))


@methods.method("git/diff", DiffParams)
async def git_diff(ctx: Context, params: DiffParams) -> dict[str, Any]:
    root = ctx.workspace.root
    path = None if params.path is None else worktree.check_paths(root, [params.path])[0]
    return await _read(ctx, lambda repo: diff.diff_files(repo, root, path, staged=params.staged))


@methods.method("git/stage", PathsParams, writes=True)
async def git_stage(ctx: Context, params: PathsParams) -> dict[str, Any]:
    root = ctx.workspace.root
    paths = await _write(ctx, "stage", lambda repo: worktree.stage(repo, root, params.paths))
    return {"paths": paths}


@methods.method("git/unstage", PathsParams, writes=True)
async def git_unstage(ctx: Context, params: PathsParams) -> dict[str, Any]:
    root = ctx.workspace.root
    paths = await _write(ctx, "unstage", lambda repo: worktree.unstage(repo, root, params.paths))
    return {"paths": paths}


@methods.method("git/discard", PathsParams, writes=True)
async def git_discard(ctx: Context, params: PathsParams) -> dict[str, Any]:
    root = ctx.workspace.root
    paths = await _write(ctx, "discard", lambda repo: worktree.discard(repo, root, params.paths))
    return {"paths": paths}


@methods.method("git/commit", CommitParams, writes=True)
async def git_commit(ctx: Context, params: CommitParams) -> dict[str, Any]:
    root, config = ctx.workspace.root, ctx.workspace.config
    return await _write(
        ctx,
        "commit",
        lambda repo: commit.commit_changes(repo, root, config, params.message, params.paths),
    )


@methods.method("git/branches", NoParams)
async def git_branches(ctx: Context, params: NoParams) -> dict[str, Any]:
    return await _read(ctx, branches.list_branches)


@methods.method("git/create_branch", CreateBranchParams, writes=True)
async def git_create_branch(ctx: Context, params: CreateBranchParams) -> dict[str, Any]:
    base = params.base or ctx.workspace.config.default_branch
    return await _write(
        ctx,
        "create_branch",
        lambda repo: branches.create_branch(repo, params.name, base, checkout=params.checkout),
    )


@methods.method("git/checkout", CheckoutParams, writes=True)
async def git_checkout(ctx: Context, params: CheckoutParams) -> dict[str, Any]:
    return await _write(ctx, "checkout", lambda repo: branches.checkout_branch(repo, params.branch))


@methods.method("git/fetch", FetchParams, writes=True)
async def git_fetch(ctx: Context, params: FetchParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _network(
        ctx, "fetch", lambda repo, s: sync.fetch(repo, config, s, prune=params.prune)
    )


@methods.method("git/prune", PruneParams, writes=True)
async def git_prune(ctx: Context, params: PruneParams) -> dict[str, Any]:
    config = ctx.workspace.config

    def work(repo: pygit2.Repository, session: sync.RemoteSession) -> dict[str, Any]:
        sync.fetch(repo, config, session, prune=True)
        return branches.prune_gone_branches(repo, dry_run=params.dry_run)

    return await _network(ctx, "fetch", work)


@methods.method("git/pull", PullParams, writes=True)
async def git_pull(ctx: Context, params: Any) -> dict[str, Any]:
    config, source = ctx.workspace.config, pull_source(params)
    return await _network(ctx, "pull", lambda repo, s: sync.pull(repo, config, s, source))


@methods.method("git/push", NoParams, writes=True)
async def git_push(ctx: Context, params: NoParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _network(ctx, "push", lambda repo, s: sync.push(repo, config, s))


@methods.method("git/cancel", NoParams, writes=True)
async def git_cancel(ctx: Context, params: NoParams) -> dict[str, Any]:
    cancelled = git_state(ctx.workspace.root).cancel()
    return {"cancelled": cancelled}


@methods.method("git/resolve", ResolveParams, writes=True)
async def git_resolve(ctx: Context, params: ResolveParams) -> dict[str, Any]:
    root = ctx.workspace.root
    return await _write(
        ctx, "resolve", lambda repo: merge.resolve(repo, root, params.path, force=params.force)
    )


@methods.method("git/abort_merge", NoParams, writes=True)
async def git_abort_merge(ctx: Context, params: NoParams) -> dict[str, Any]:
    root = ctx.workspace.root
    return await _write(ctx, "abort_merge", lambda repo: merge.abort_merge(repo, root))


@methods.method("git/log", LogParams)
async def git_log(ctx: Context, params: LogParams) -> dict[str, Any]:
    root = ctx.workspace.root
    path = None if params.path is None else worktree.check_paths(root, [params.path])[0]
    return await _read(
        ctx,
        lambda repo: history.log(
            repo, path=path, ref=params.ref, skip=max(params.skip, 0), limit=params.limit
        ),
    )


@methods.method("git/revert", RevertParams, writes=True)
async def git_revert(ctx: Context, params: RevertParams) -> dict[str, Any]:
    config = ctx.workspace.config
    return await _write(ctx, "revert", lambda repo: history.revert(repo, config, params.commit))
