"""Pull, push, conflicts and credentials against real remotes (HTTP with Basic auth, file://)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pygit2
import pytest

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.git import errors
from ide_server.workspace.git.credentials import RemoteSession
from ide_server.workspace.git.repo import open_repository
from ide_server.workspace.rpc import RpcError

from .conftest import TOKEN, FakeContext, make_context, pod_config, run_git


def unprotected(ctx: FakeContext) -> FakeContext:
    """The same volume with commits on the primary branch allowed (the per-project setting)."""
    config = dataclasses.replace(ctx.workspace.config, protect_default_branch=False)
    return make_context(config)


def two_users(tmp_path: Path, url: str, token: str = TOKEN) -> list[FakeContext]:
    contexts = []
    for user in ("alice", "bob"):
        config = pod_config(tmp_path / "volumes" / user, url, user=user, token=token)
        ensure_checkout(config)
        contexts.append(make_context(config))
    return contexts


async def test_conflicting_edits_pull_resolve_merge_and_push(tmp_path, http_remote):
    alice, bob = two_users(tmp_path, http_remote.url("project.git"))
    for ctx in (alice, bob):
        await ctx.ok("git/create_branch", {"name": "feature"})
    # Alice publishes the branch first; Bob tracks it.
    (alice.workspace.root / "models" / "orders.sql").write_text("select 2 as id\nfrom raw.orders\n")
    await alice.ok("git/commit", {"message": "Alice: id 2"})
    pushed = await alice.ok("git/push")
    assert pushed["upstream_set"] is True
    await bob.ok("git/checkout", {"branch": "main"})
    run_git("branch", "-D", "feature", cwd=bob.workspace.root)
    await bob.ok("git/fetch")
    await bob.ok("git/checkout", {"branch": "feature"})  # tracks origin/feature
    # Both edit the same line; Alice pushes first.
    (alice.workspace.root / "models" / "orders.sql").write_text("select 3 as id\nfrom raw.orders\n")
    await alice.ok("git/commit", {"message": "Alice: id 3"})
    await alice.ok("git/push")
    (bob.workspace.root / "models" / "orders.sql").write_text("select 4 as id\nfrom raw.orders\n")
    (bob.workspace.root / "models" / "bob.sql").write_text("select 'bob'\n")
    await bob.ok("git/commit", {"message": "Bob: id 4"})
    rejected = await bob.error("git/push")
    assert rejected["code"] == errors.PUSH_REJECTED
    assert "pull first" in rejected["message"]

    pulled = await bob.ok("git/pull")
    assert pulled["outcome"] == "conflicts"
    assert pulled["conflicts"] == ["models/orders.sql"]
    text = (bob.workspace.root / "models" / "orders.sql").read_text()
    assert "<<<<<<<" in text and "=======" in text and ">>>>>>>" in text
    status = await bob.ok("git/status")
    assert status["merging"] is True
    assert {"path": "models/orders.sql", "status": "conflicted"}.items() <= next(
        f for f in status["files"] if f["path"] == "models/orders.sql"
    ).items()
    # Committing with markers still unresolved is refused, as is resolving with markers.
    assert (await bob.error("git/commit", {"message": "merge"}))[
        "code"
    ] == errors.UNRESOLVED_CONFLICTS
    marked = await bob.error("git/resolve", {"path": "models/orders.sql"})
    assert marked["code"] == errors.UNRESOLVED_CONFLICTS
    (bob.workspace.root / "models" / "orders.sql").write_text("select 34 as id\nfrom raw.orders\n")
    resolved = await bob.ok("git/resolve", {"path": "models/orders.sql"})
    assert resolved["remaining"] == []
    merge = await bob.ok("git/commit", {"message": "Merge origin/feature"})
    await bob.ok("git/push")

    bare = Path(http_remote.project_root) / "project.git"
    remote_tip = run_git("rev-parse", "feature", cwd=bare).strip()
    assert remote_tip == merge["commit"]
    parents = run_git("log", "-1", "--format=%P", "feature", cwd=bare).split()
    assert len(parents) == 2
    subjects = run_git("log", "--format=%s", "feature", cwd=bare).splitlines()
    assert {"Alice: id 2", "Alice: id 3", "Bob: id 4", "Merge origin/feature"} <= set(subjects)
    content = run_git("show", "feature:models/orders.sql", cwd=bare)
    assert content == "select 34 as id\nfrom raw.orders\n"
    # Alice pulls the merge as a fast-forward.
    assert (await alice.ok("git/pull"))["outcome"] == "fast-forward"
    assert (alice.workspace.root / "models" / "bob.sql").exists()
    assert (await alice.ok("git/status"))["files"] == []


async def test_pull_from_main_merges_without_conflict(tmp_path, file_remote):
    alice, bob = two_users(tmp_path, file_remote.as_uri(), token="")
    alice = unprotected(alice)
    (alice.workspace.root / "models" / "customers.sql").write_text("select 9 as id\n")
    await alice.ok("git/commit", {"message": "customers on main"})
    await alice.ok("git/push")
    await bob.ok("git/create_branch", {"name": "work"})
    (bob.workspace.root / "models" / "orders.sql").write_text("select 5 as id\n")
    await bob.ok("git/commit", {"message": "orders on work"})
    reloads = bob.workspace.reloads
    result = await bob.ok("git/pull", {"from": "main"})
    assert result["outcome"] == "merged" and result["source"] == "origin/main"
    assert bob.workspace.reloads > reloads  # open documents reload before the answer
    assert (bob.workspace.root / "models" / "customers.sql").read_text() == "select 9 as id\n"
    log = await bob.ok("git/log", {"limit": 1})
    assert len(log["commits"][0]["parents"]) == 2
    assert (await bob.ok("git/status"))["merging"] is False


async def test_abort_merge_restores_files_and_keeps_unrelated_edits(tmp_path, file_remote):
    alice, bob = two_users(tmp_path, file_remote.as_uri(), token="")
    alice, bob = unprotected(alice), unprotected(bob)
    (alice.workspace.root / "models" / "orders.sql").write_text("alice\n")
    await alice.ok("git/commit", {"message": "a"})
    await alice.ok("git/push")
    (bob.workspace.root / "models" / "orders.sql").write_text("bob\n")
    await bob.ok("git/commit", {"message": "b"})
    (bob.workspace.root / "dbt_project.yml").write_text("name: unsaved edit\n")
    assert (await bob.ok("git/pull"))["outcome"] == "conflicts"
    await bob.ok("git/abort_merge")
    assert (bob.workspace.root / "models" / "orders.sql").read_text() == "bob\n"
    assert (bob.workspace.root / "dbt_project.yml").read_text() == "name: unsaved edit\n"
    status = await bob.ok("git/status")
    assert status["merging"] is False
    assert [f["path"] for f in status["files"]] == ["dbt_project.yml"]
    assert (await bob.error("git/abort_merge"))["code"] == errors.WRONG_STATE


async def test_pull_refuses_to_overwrite_uncommitted_edits(tmp_path, file_remote):
    alice, bob = two_users(tmp_path, file_remote.as_uri(), token="")
    alice = unprotected(alice)
    (alice.workspace.root / "models" / "orders.sql").write_text("alice\n")
    await alice.ok("git/commit", {"message": "a"})
    await alice.ok("git/push")
    (bob.workspace.root / "models" / "orders.sql").write_text("bob's unsaved work\n")
    error = await bob.error("git/pull")
    assert error["code"] == errors.UNCOMMITTED_CHANGES
    assert error["data"]["files"] == ["models/orders.sql"]
    assert (bob.workspace.root / "models" / "orders.sql").read_text() == "bob's unsaved work\n"


async def test_wrong_token_is_a_clear_error_and_writes_nothing(tmp_path, http_remote):
    config = pod_config(tmp_path / "vol", http_remote.url("project.git"), token="wrong-token")
    with pytest.raises(RpcError) as raised:
        ensure_checkout(config)
    assert raised.value.code == errors.AUTH_FAILED
    assert "token" in raised.value.message and "wrong-token" not in raised.value.message
    assert not (tmp_path / "vol").exists()
    assert not list(tmp_path.glob(".vol.clone-*"))
    # With a working clone, a bad token on push leaves the remote and the refs unchanged.
    good = pod_config(tmp_path / "vol", http_remote.url("project.git"), token=TOKEN)
    ensure_checkout(good)
    ctx = make_context(good)
    await ctx.ok("git/create_branch", {"name": "feature"})
    (good.root / "models" / "orders.sql").write_text("select 7\n")
    await ctx.ok("git/commit", {"message": "seven"})
    bad = make_context(pod_config(good.root, good.git_url, token="wrong-token"))
    error = await bad.error("git/push")
    assert error["code"] == errors.AUTH_FAILED and "wrong-token" not in str(error)
    bare = Path(http_remote.project_root) / "project.git"
    assert "feature" not in run_git("branch", "--list", cwd=bare)
    assert (await ctx.ok("git/status"))["upstream"] is None
    missing = make_context(pod_config(good.root, good.git_url, token=""))
    assert (await missing.error("git/fetch"))["code"] == errors.AUTH_FAILED


async def test_progress_notifications_and_git_changed(tmp_path, http_remote):
    alice, carol = two_users(tmp_path, http_remote.url("project.git"))
    await alice.ok("git/create_branch", {"name": "big"})
    for n in range(50):
        (alice.workspace.root / "models" / f"m{n}.sql").write_text(f"select {n} -- {'x' * 500}\n")
    await alice.ok("git/commit", {"message": "many models"})
    await alice.ok("git/push")
    pushes = [p for m, p in alice.client.notifications if m == "git/progress" and p["op"] == "push"]
    assert pushes and pushes[-1]["pushed_objects"] == pushes[-1]["total_objects"] > 50
    await carol.ok("git/fetch")
    fetches = [p for m, p in carol.client.notifications if m == "git/progress"]
    assert fetches[-1]["op"] == "fetch"
    assert fetches[-1]["received_objects"] == fetches[-1]["total_objects"] > 50
    assert ("git/changed", {"op": "fetch"}) in carol.broadcasts


async def test_cancel_stops_a_fetch_without_touching_refs(tmp_path, file_remote):
    alice, bob = two_users(tmp_path, file_remote.as_uri(), token="")
    alice = unprotected(alice)
    for n in range(200):
        (alice.workspace.root / f"f{n}.txt").write_text(f"{n}\n" * 200)
    await alice.ok("git/commit", {"message": "lots"})
    await alice.ok("git/push")
    before = run_git("rev-parse", "origin/main", cwd=bob.workspace.root)

    class CancelOnFirstProgress(list):
        def append(self, item):  # the first progress notification triggers git/cancel
            super().append(item)
            if item[0] == "git/progress" and len(self) == 1:
                asyncio.get_running_loop().create_task(bob.call("git/cancel"))

    bob.client.notifications = CancelOnFirstProgress()
    # Make progress slow enough for the cancel to land while libgit2 is transferring.
    original = RemoteSession.transfer_progress

    def slow(self, stats):
        import time

        time.sleep(0.01)
        return original(self, stats)

    RemoteSession.transfer_progress = slow
    try:
        error = await bob.error("git/fetch")
    finally:
        RemoteSession.transfer_progress = original
    assert error["code"] == errors.CANCELLED
    assert run_git("rev-parse", "origin/main", cwd=bob.workspace.root) == before
    run_git("fsck", "--no-progress", cwd=bob.workspace.root)
    assert (await bob.ok("git/fetch"))["received_objects"] > 0
    assert (await bob.ok("git/cancel"))["cancelled"] is None


def test_fetch_session_rejects_second_credential_request():
    session = RemoteSession("https://git.example.com/p.git", TOKEN, operation="fetch")
    allowed = pygit2.enums.CredentialType.USERPASS_PLAINTEXT
    cred = session.credentials("https://git.example.com/p.git", None, allowed)
    assert cred.credential_tuple == ("x-access-token", TOKEN)
    with pytest.raises(errors.AuthenticationFailed):
        session.credentials("https://git.example.com/p.git", None, allowed)


def test_token_only_for_the_project_host_and_only_over_https():
    allowed = pygit2.enums.CredentialType.USERPASS_PLAINTEXT
    other = RemoteSession("https://git.example.com/p.git", TOKEN, operation="fetch")
    with pytest.raises(errors.AuthenticationFailed):
        other.credentials("https://evil.example.net/p.git", None, allowed)
    plain = RemoteSession("http://git.example.com/p.git", TOKEN, operation="fetch")
    with pytest.raises(errors.AuthenticationFailed):
        plain.credentials("http://git.example.com/p.git", None, allowed)
    named = RemoteSession("https://deploy@git.example.com/p.git", TOKEN, operation="fetch")
    assert named.credentials(
        "https://deploy@git.example.com/p.git", "deploy", allowed
    ).credential_tuple == (
        "deploy",
        TOKEN,
    )


async def test_push_of_unborn_or_detached_head_is_refused(ctx):
    repo = open_repository(ctx.workspace.root)
    repo.set_head(repo.head.target)
    assert (await ctx.error("git/push"))["code"] == errors.WRONG_STATE
    assert (await ctx.error("git/pull"))["code"] == errors.WRONG_STATE


async def test_new_branch_pull_reports_no_upstream(ctx):
    await ctx.ok("git/create_branch", {"name": "fresh"})
    result = await ctx.ok("git/pull")
    assert result["outcome"] == "no-upstream"
    assert (await ctx.error("git/pull", {"from": "nope"}))["code"] == -32003


async def test_cancelled_push_moves_nothing(tmp_path, http_remote):
    import threading

    from ide_server.workspace.git import sync
    from ide_server.workspace.git.repo import open_repository

    alice, _ = two_users(tmp_path, http_remote.url("project.git"))
    await alice.ok("git/create_branch", {"name": "stopped"})
    (alice.workspace.root / "x.sql").write_text("select 1\n")
    await alice.ok("git/commit", {"message": "x"})
    cancelled = threading.Event()
    cancelled.set()
    session = sync.remote_session(alice.workspace.config, "push", cancelled)
    repo = open_repository(alice.workspace.root)
    with pytest.raises(RpcError) as raised:
        sync.push(repo, alice.workspace.config, session)
    assert raised.value.code == errors.CANCELLED
    bare = Path(http_remote.project_root) / "project.git"
    assert "stopped" not in run_git("branch", "--list", cwd=bare)
    assert (await alice.ok("git/status"))["upstream"] is None


async def test_a_second_write_waits_then_reports_busy(ctx, monkeypatch):
    from ide_server.workspace.git import repo as repo_module

    monkeypatch.setattr(repo_module, "LOCK_WAIT_SECONDS", 0.05)
    async with ctx.workspace.git.exclusive("pull"):
        error = await ctx.error("git/stage", {})
        assert (await ctx.ok("git/status"))["branch"] == "main"  # reads never wait
    assert error["code"] == errors.BUSY and "pull" in error["message"]
    await ctx.ok("git/stage", {})
