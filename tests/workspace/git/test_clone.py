"""ensure_checkout: first start clones, later starts reuse, crashes leave nothing half-made."""

from __future__ import annotations

from pathlib import Path

import pytest

from ide_server.workspace import clone
from ide_server.workspace.clone import IN_PROGRESS_MARKER, ensure_checkout

from .conftest import pod_config, run_git


def test_first_start_clones_the_primary_branch(tmp_path, file_remote):
    config = pod_config(tmp_path / "vol", file_remote.as_uri())
    ensure_checkout(config)
    root = config.root
    assert (root / "models" / "orders.sql").read_text() == "select 1 as id\nfrom raw.orders\n"
    assert run_git("rev-parse", "--abbrev-ref", "HEAD", cwd=root).strip() == "main"
    assert (
        run_git("rev-parse", "--abbrev-ref", "main@{upstream}", cwd=root).strip() == "origin/main"
    )
    assert run_git("remote", "get-url", "origin", cwd=root).strip() == file_remote.as_uri()
    assert ".ide/" in (root / ".git" / "info" / "exclude").read_text().splitlines()
    assert run_git("status", "--porcelain", cwd=root) == ""
    assert not list(tmp_path.glob(".vol.clone-*"))


def test_later_starts_reuse_the_volume_as_it_is(tmp_path, file_remote):
    config = pod_config(tmp_path / "vol", file_remote.as_uri())
    ensure_checkout(config)
    (config.root / "models" / "orders.sql").write_text("uncommitted work\n")
    run_git("checkout", "-q", "-b", "wip", cwd=config.root)
    ensure_checkout(config)
    assert (config.root / "models" / "orders.sql").read_text() == "uncommitted work\n"
    assert run_git("rev-parse", "--abbrev-ref", "HEAD", cwd=config.root).strip() == "wip"
    exclude = (config.root / ".git" / "info" / "exclude").read_text().splitlines()
    assert exclude.count(".ide/") == 1


def test_clone_into_an_existing_empty_mount_point(tmp_path, file_remote):
    root = tmp_path / "mount"
    (root / "lost+found").mkdir(parents=True)
    config = pod_config(root, file_remote.as_uri())
    ensure_checkout(config)
    assert (root / ".git").is_dir() and (root / "dbt_project.yml").exists()
    assert not (root / IN_PROGRESS_MARKER).exists()


def test_crash_while_cloning_leaves_nothing(tmp_path, file_remote, monkeypatch):
    config = pod_config(tmp_path / "vol", file_remote.as_uri())

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("pod killed mid-clone")

    monkeypatch.setattr(clone, "_move_into_place", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_checkout(config)
    assert not config.root.exists()
    assert not list(tmp_path.glob(".vol.clone-*"))
    monkeypatch.undo()
    ensure_checkout(config)
    assert (config.root / "dbt_project.yml").exists()


def test_crash_while_moving_into_a_mount_point_is_redone(tmp_path, file_remote):
    root = tmp_path / "mount"
    root.mkdir()
    # What a crash between moving the files and moving .git leaves behind.
    (root / IN_PROGRESS_MARKER).parent.mkdir()
    (root / IN_PROGRESS_MARKER).touch()
    (root / "models").mkdir()
    (root / "models" / "orders.sql").write_text("partial\n")
    (root / ".git.incoming").mkdir()
    config = pod_config(root, file_remote.as_uri())
    ensure_checkout(config)
    assert (root / "models" / "orders.sql").read_text() == "select 1 as id\nfrom raw.orders\n"
    assert not (root / ".git.incoming").exists()
    assert run_git("status", "--porcelain", cwd=root) == ""


def test_refuses_to_clone_over_unrelated_files(tmp_path, file_remote):
    root = tmp_path / "mount"
    root.mkdir()
    (root / "precious.txt").write_text("not ours\n")
    with pytest.raises(RuntimeError, match="refusing"):
        ensure_checkout(pod_config(root, file_remote.as_uri()))
    assert (root / "precious.txt").read_text() == "not ours\n"


def test_empty_remote_and_no_remote(tmp_path):
    bare = tmp_path / "empty.git"
    run_git("init", "-q", "--bare", str(bare))
    config = pod_config(tmp_path / "vol", bare.as_uri())
    ensure_checkout(config)
    assert (config.root / ".git").is_dir()
    assert run_git("symbolic-ref", "HEAD", cwd=config.root).strip() == "refs/heads/main"
    local = pod_config(tmp_path / "local", "")
    ensure_checkout(local)
    assert (local.root / ".git").is_dir()


async def test_first_commit_and_push_to_an_empty_remote(tmp_path):
    from .conftest import make_context

    bare = tmp_path / "empty.git"
    run_git("init", "-q", "--bare", str(bare))
    config = pod_config(tmp_path / "vol", bare.as_uri())
    ensure_checkout(config)
    ctx = make_context(config)
    (config.root / "README.md").write_text("hello\n")
    assert (await ctx.ok("git/status"))["head"] is None
    result = await ctx.ok("git/commit", {"message": "first"})  # nothing to protect yet
    await ctx.ok("git/push")
    assert run_git("rev-parse", "main", cwd=bare).strip() == result["commit"]


def test_a_gitdir_file_pointing_outside_is_refused(tmp_path, file_remote):
    from ide_server.workspace.git.repo import open_repository
    from ide_server.workspace.rpc import RpcError

    outside = tmp_path / "outside.git"
    run_git("init", "-q", "--bare", str(outside))
    root = tmp_path / "vol"
    root.mkdir()
    (root / ".git").write_text(f"gitdir: {outside}\n")
    with pytest.raises(RpcError):
        open_repository(root)
    nested = tmp_path / "parent"
    run_git("init", "-q", str(nested))
    (nested / "child").mkdir()
    with pytest.raises(RpcError):
        open_repository(Path(nested / "child"))
