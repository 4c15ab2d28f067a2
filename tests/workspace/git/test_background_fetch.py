"""git/refresh_remote: the fetch on open, outside the git lock, bounded in time."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.git.background import BackgroundFetch, publish, tracking_tips

from .conftest import TOKEN, FakeContext, make_context, pod_config, run_git


class Listener:
    """Another open IDE on the same pod."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, dict[str, Any]]] = []

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        self.heard.append((method, dict(params)))


def push_as_someone_else(remote: Path, tmp_path: Path, branch: str, file: str) -> str:
    other = tmp_path / f"other-{branch.replace('/', '-')}"
    run_git("clone", "-q", str(remote), str(other))
    run_git("checkout", "-q", "-B", branch, cwd=other)
    (other / file).write_text(f"{branch}\n")
    run_git("add", "-A", cwd=other)
    run_git("commit", "-q", "-m", f"work on {branch}", cwd=other)
    run_git("push", "-q", "origin", branch, cwd=other)
    return run_git("rev-parse", "HEAD", cwd=other).strip()


async def test_a_branch_pushed_by_someone_else_appears_and_checks_out_tracking(
    ctx, file_remote, tmp_path
):
    commit = push_as_someone_else(file_remote, tmp_path, "feature/x", "x.sql")
    tab = Listener()
    ctx.workspace.clients.add(tab)  # type: ignore[arg-type]
    before = await ctx.ok("git/branches")
    assert [b["name"] for b in before["remote"]] == ["origin/main"]
    assert before["fetch"]["state"] == "idle"

    outcome = await ctx.ok("git/refresh_remote", {"wait": True})
    assert outcome["state"] == "done", outcome
    assert outcome["new_branches"] == ["feature/x"] and outcome["updated_branches"] == []
    listed = await ctx.ok("git/branches")
    assert {"name": "origin/feature/x", "commit": commit} in listed["remote"]
    assert "feature/x" not in [b["name"] for b in listed["local"]]
    assert listed["fetch"]["state"] == "done"
    # The local branch and the working tree were not touched by the fetch.
    assert listed["current"] == "main" and not (ctx.workspace.root / "x.sql").exists()

    await ctx.ok("git/checkout", {"branch": "origin/feature/x"})
    status = await ctx.ok("git/status")
    assert status["branch"] == "feature/x" and status["upstream"] == "origin/feature/x"
    assert (ctx.workspace.root / "x.sql").read_text() == "feature/x\n"
    # Every open IDE heard it start and end, and refreshes its panel.
    states = [p["state"] for m, p in tab.heard if m == "git/remote_fetch"]
    assert states[0] == "fetching" and states[-1] == "done"
    assert ("git/changed", {"op": "fetch"}) in tab.heard
    assert not ctx.workspace.remote_fetch.scratch.exists()


async def test_new_commits_on_a_known_branch_move_only_its_tracking_ref(ctx, file_remote, tmp_path):
    head = run_git("rev-parse", "HEAD", cwd=ctx.workspace.root).strip()
    push_as_someone_else(file_remote, tmp_path, "main", "new.sql")
    outcome = await ctx.ok("git/refresh_remote", {"wait": True})
    assert outcome["updated_branches"] == ["main"] and outcome["new_branches"] == []
    status = await ctx.ok("git/status")
    assert status["behind"] == 1 and status["ahead"] == 0
    assert run_git("rev-parse", "HEAD", cwd=ctx.workspace.root).strip() == head
    again = await ctx.ok("git/refresh_remote", {"wait": True})
    assert again["updated_branches"] == [] and again["new_branches"] == []


def test_a_tracking_ref_moved_during_the_fetch_is_left_as_the_newer_update_set_it(
    ctx, file_remote, tmp_path
):
    root = ctx.workspace.root
    before = tracking_tips(root)
    newer = push_as_someone_else(file_remote, tmp_path, "main", "a.sql")
    run_git("fetch", "-q", "origin", cwd=root)  # a pull's fetch, under the lock
    assert tracking_tips(root)["main"] == newer
    stale = {"main": before["main"], "other": newer}
    scratch = tmp_path / "scratch"
    (scratch / "objects").mkdir(parents=True)
    changes = publish(root, scratch, before, stale)
    assert changes == {"new_branches": ["other"], "updated_branches": []}
    assert tracking_tips(root)["main"] == newer


@pytest.fixture
def silent_remote() -> Iterator[str]:
    """An HTTP URL whose server takes connections (the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/project.git"
    listener.close()


def hanging(ctx: FakeContext, url: str) -> FakeContext:
    return make_context(dataclasses.replace(ctx.workspace.config, git_url=url))


async def test_a_remote_that_never_answers_blocks_no_commit_or_checkout(ctx, silent_remote):
    ctx = hanging(ctx, silent_remote)
    root = ctx.workspace.root
    started = await ctx.ok("git/refresh_remote")
    assert started["state"] == "fetching"
    try:
        await ctx.ok("git/create_branch", {"name": "work"})
        (root / "models" / "orders.sql").write_text("select 42 as id\n")
        committed = await ctx.ok("git/commit", {"message": "while the remote hangs"})
        assert committed["branch"] == "work"
        await ctx.ok("git/checkout", {"branch": "main"})
        assert (await ctx.ok("git/status"))["branch"] == "main"
        # Still waiting on the remote: nothing above waited for it.
        assert ctx.workspace.remote_fetch.current()["state"] == "fetching"
        assert (await ctx.ok("git/refresh_remote"))["state"] == "fetching"  # joins, no second
    finally:
        await ctx.workspace.shutdown()


async def test_a_fetch_is_bounded_in_time_and_says_why_it_failed(ctx, silent_remote):
    ctx = hanging(ctx, silent_remote)
    ctx.workspace.remote_fetch = BackgroundFetch(ctx.workspace, timeout=1.0)
    outcome = await ctx.ok("git/refresh_remote", {"wait": True})
    assert outcome["state"] == "failed"
    assert "did not answer within 1 s" in outcome["message"]
    assert (await ctx.ok("git/branches"))["fetch"]["state"] == "failed"
    assert not ctx.workspace.remote_fetch.scratch.exists()


async def test_an_unreachable_remote_fails_with_a_message_and_no_token(ctx):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    config = dataclasses.replace(
        ctx.workspace.config, git_url=f"http://127.0.0.1:{port}/p.git", git_token="SECRET-1234"
    )
    outcome = await make_context(config).ok("git/refresh_remote", {"wait": True})
    assert outcome["state"] == "failed" and "could not be reached" in outcome["message"]
    assert "SECRET" not in outcome["message"]


async def test_over_http_with_a_token_the_fetched_objects_are_complete(tmp_path, http_remote):
    config = pod_config(tmp_path / "volumes" / "alice", http_remote.url("project.git"), token=TOKEN)
    ensure_checkout(config)
    ctx = make_context(config)
    served = tmp_path / "served" / "project.git"
    push_as_someone_else(served, tmp_path, "main", "more.sql")  # a thin pack against ours
    push_as_someone_else(served, tmp_path, "release", "release.sql")
    outcome = await ctx.ok("git/refresh_remote", {"wait": True})
    assert outcome["state"] == "done", outcome
    assert (outcome["new_branches"], outcome["updated_branches"]) == (["release"], ["main"])
    run_git("fsck", "--strict", cwd=config.root)  # raises if an object is missing
    pulled = await ctx.ok("git/pull")
    assert pulled["outcome"] == "fast-forward"
    assert (config.root / "more.sql").exists()
