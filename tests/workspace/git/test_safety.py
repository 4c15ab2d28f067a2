"""Git never runs configured commands, and the token goes to the project's remote only."""

from __future__ import annotations

import base64
import dataclasses
import logging
import os
from pathlib import Path

import pytest

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.git import errors

from .conftest import TOKEN, FakeContext, make_context, make_remote, pod_config, run_git
from .remote_server import GitHttpServer

HOOKS = (
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "post-checkout",
    "post-merge",
    "pre-merge-commit",
    "pre-push",
    "reference-transaction",
    "post-rewrite",
    "fsmonitor-watchman",
)


def tripwire(directory: Path, name: str, marker: Path) -> Path:
    """An executable that records that it ran."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(f"#!/bin/sh\necho {name} >> {marker}\n")
    script.chmod(0o755)
    return script


def arm_repository(root: Path, marker: Path) -> None:
    """Configure every command-running knob git has to trip the wire."""
    trip = tripwire(root.parent / "bin", "trip", marker)
    for hook in HOOKS:
        tripwire(root / ".git" / "hooks", hook, marker)
        tripwire(root.parent / "hooks", hook, marker)
    settings = {
        "core.fsmonitor": str(trip),
        "core.hooksPath": str(root.parent / "hooks"),
        "core.sshCommand": str(trip),
        "core.editor": str(trip),
        "core.pager": str(trip),
        "credential.helper": f"!{trip}",
        "filter.trip.smudge": str(trip),
        "filter.trip.clean": str(trip),
        "filter.trip.process": str(trip),
        "diff.trip.textconv": str(trip),
        "gpg.program": str(trip),
        "commit.gpgsign": "true",
    }
    for key, value in settings.items():
        run_git("config", key, value, cwd=root)
    (root / ".gitattributes").write_text("*.sql filter=trip diff=trip\n")


async def test_no_configured_command_ever_runs(tmp_path, http_remote):
    config = pod_config(tmp_path / "vol" / "alice", http_remote.url("project.git"), token=TOKEN)
    ensure_checkout(config)
    other = pod_config(tmp_path / "vol" / "bob", config.git_url, user="bob", token=TOKEN)
    ensure_checkout(other)
    marker = tmp_path / "ran.txt"
    arm_repository(config.root, marker)
    ctx = make_context(config)
    bob = make_context(dataclasses.replace(other, protect_default_branch=False))
    (other.root / "models" / "customers.sql").write_text("select 'bob'\n")
    await bob.ok("git/commit", {"message": "bob on main"})
    await bob.ok("git/push")

    (config.root / "models" / "orders.sql").write_text("select 42\n")
    await ctx.ok("git/status")
    await ctx.ok("git/diff")
    await ctx.ok("git/diff", {"path": "models/orders.sql"})
    await ctx.ok("git/create_branch", {"name": "feature"})
    await ctx.ok("git/stage")
    await ctx.ok("git/commit", {"message": "change"})
    await ctx.ok("git/pull", {"from": "main"})  # a real merge commit
    await ctx.ok("git/push")
    await ctx.ok("git/checkout", {"branch": "main"})
    await ctx.ok("git/pull")
    await ctx.ok("git/checkout", {"branch": "feature"})
    log = await ctx.ok("git/log")
    change = next(c for c in log["commits"] if c["summary"] == "change")
    await ctx.ok("git/revert", {"commit": change["id"]})
    await ctx.ok("git/prune")
    assert not marker.exists(), marker.read_text()
    # The commits are not signed even though commit.gpgsign is set.
    assert "gpgsig" not in run_git("cat-file", "-p", "HEAD", cwd=config.root)
    # The wire is live: the git command line does run what the config names.
    run_git("status", cwd=config.root)
    assert marker.exists()


async def test_ssh_remotes_are_refused(tmp_path, file_remote):
    marker = tmp_path / "ran.txt"
    trip = tripwire(tmp_path / "bin", "trip", marker)
    config = pod_config(tmp_path / "vol", file_remote.as_uri())
    ensure_checkout(config)
    run_git("config", "core.sshCommand", str(trip), cwd=config.root)
    for url in ("ssh://git@127.0.0.1/project.git", "git@127.0.0.1:project.git"):
        ctx = make_context(dataclasses.replace(config, git_url=url))
        error = await ctx.error("git/fetch")
        assert error["code"] == errors.REMOTE_REFUSED
    assert not marker.exists()


async def test_insteadof_redirect_is_refused_and_the_other_host_gets_nothing(tmp_path, http_remote):
    evil = GitHttpServer(tmp_path / "evil-root").start()
    try:
        make_remote(tmp_path / "evil-root")
        config = pod_config(tmp_path / "vol", http_remote.url("project.git"), token=TOKEN)
        ensure_checkout(config)
        ctx = make_context(config)
        for key in ("insteadOf", "pushInsteadOf"):
            run_git(
                "config", f"url.{evil.base_url}/.{key}", http_remote.base_url + "/", cwd=config.root
            )
            for method in ("git/fetch", "git/pull", "git/push", "git/prune"):
                error = await ctx.error(method)
                assert error["code"] == errors.REMOTE_REFUSED, (key, method, error)
            run_git("config", "--unset", f"url.{evil.base_url}/.{key}", cwd=config.root)
        assert evil.requests == []
    finally:
        evil.stop()


async def test_git_config_remote_url_and_proxy_are_not_followed(tmp_path, http_remote):
    evil = GitHttpServer(tmp_path / "evil-root").start()
    try:
        make_remote(tmp_path / "evil-root")
        config = pod_config(tmp_path / "vol", http_remote.url("project.git"), token=TOKEN)
        ensure_checkout(config)
        run_git("remote", "set-url", "origin", evil.url("project.git"), cwd=config.root)
        run_git("remote", "set-url", "--push", "origin", evil.url("project.git"), cwd=config.root)
        run_git("config", "http.proxy", evil.base_url, cwd=config.root)
        ctx = make_context(config)
        await ctx.ok("git/fetch")
        await ctx.ok("git/create_branch", {"name": "b"})
        (config.root / "x.sql").write_text("select 1\n")
        await ctx.ok("git/commit", {"message": "x"})
        await ctx.ok("git/push")
        assert evil.requests == []
        assert run_git("branch", "--list", "b", cwd=http_remote.project_root / "project.git")
    finally:
        evil.stop()


async def test_http_redirect_to_another_host_gets_no_token(tmp_path):
    make_remote(tmp_path / "evil-root")
    evil = GitHttpServer(tmp_path / "evil-root", token="evil-wants-a-token").start()
    redirector = GitHttpServer(tmp_path / "none", token=TOKEN, redirect_to=evil.base_url).start()
    try:
        config = pod_config(tmp_path / "vol", redirector.url("project.git"), token=TOKEN)
        with pytest.raises(Exception) as raised:
            ensure_checkout(config)
        assert TOKEN not in str(raised.value)
        assert evil.requests, "libgit2 should have followed the redirect"
        assert all(r.authorization is None for r in evil.requests)
        assert not (tmp_path / "vol").exists()
    finally:
        evil.stop()
        redirector.stop()


async def test_submodules_are_not_fetched(tmp_path):
    served = tmp_path / "served"
    make_remote(served, "library.git")
    bare = make_remote(served, "project.git")
    sub_server = GitHttpServer(served).start()
    try:
        work = tmp_path / "seed-sub"
        run_git("clone", "-q", str(bare), str(work))
        run_git(
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub_server.url("library.git"),
            "vendor/library",
            cwd=work,
        )
        run_git("commit", "-q", "-m", "add submodule", cwd=work)
        run_git("push", "-q", "origin", "main", cwd=work)
        requests_before = len(sub_server.requests)
        config = pod_config(tmp_path / "vol", bare.as_uri())
        ensure_checkout(config)
        ctx = make_context(config)
        await ctx.ok("git/pull")
        assert len(sub_server.requests) == requests_before
        assert (config.root / ".gitmodules").exists()
        library = config.root / "vendor" / "library"
        assert not library.exists() or not any(library.iterdir())
        assert not (config.root / ".git" / "modules").exists()
        assert (await ctx.ok("git/status"))["files"] == []
    finally:
        sub_server.stop()


def token_forms() -> list[bytes]:
    raw = TOKEN.encode()
    return [raw, base64.b64encode(b"x-access-token:" + raw), base64.b64encode(b"alice:" + raw)]


def assert_token_absent_from(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            data = (Path(directory) / name).read_bytes()
            for form in token_forms():
                assert form not in data, f"token found in {Path(directory) / name}"


def assert_token_absent_from_process_args() -> None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        assert TOKEN.encode() not in cmdline, f"token in the arguments of pid {entry.name}"


async def test_token_is_nowhere_after_clone_pull_and_push(tmp_path, http_remote, caplog):
    caplog.set_level(logging.DEBUG)
    alice_cfg = pod_config(tmp_path / "vol" / "alice", http_remote.url("project.git"), token=TOKEN)
    bob_cfg = pod_config(tmp_path / "vol" / "bob", alice_cfg.git_url, user="bob", token=TOKEN)
    ensure_checkout(alice_cfg)
    ensure_checkout(bob_cfg)
    alice: FakeContext = make_context(alice_cfg)
    bob = make_context(bob_cfg)
    await alice.ok("git/create_branch", {"name": "shared"})
    (alice_cfg.root / "models" / "orders.sql").write_text("select 'alice'\n")
    await alice.ok("git/commit", {"message": "alice"})
    await alice.ok("git/push")
    assert_token_absent_from_process_args()
    await bob.ok("git/fetch")
    await bob.ok("git/checkout", {"branch": "shared"})
    (bob_cfg.root / "models" / "customers.sql").write_text("select 'bob'\n")
    await bob.ok("git/commit", {"message": "bob"})
    await bob.ok("git/push")
    assert (await alice.ok("git/pull"))["outcome"] == "fast-forward"
    wrong = make_context(dataclasses.replace(alice_cfg, git_token=TOKEN + "x"))
    error = await wrong.error("git/push")
    # Every request that carried a token went to the project's server.
    assert any(r.authorization for r in http_remote.requests)
    for root in (alice_cfg.root, bob_cfg.root):
        assert_token_absent_from(root)
        assert "x-access-token" not in (root / ".git" / "config").read_text()
        assert TOKEN not in run_git("remote", "-v", cwd=root)
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    answers = str(alice.client.notifications + bob.client.notifications) + str(error)
    for text in (logged, answers):
        for form in token_forms():
            assert form.decode() not in text
    assert_token_absent_from_process_args()
