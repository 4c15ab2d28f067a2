"""The protected primary branch holds on every route that could move it.

Each test tries one route against a real remote and checks that the remote's ``main``,
the local ``main`` and the working tree are exactly as before, and that the answer offers
a patch branch. Pulling the remote's own ``main`` (a fast-forward) stays allowed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.git import errors

from .conftest import FakeContext, make_context, make_remote, pod_config, run_git


def rev(ref: str, cwd: Path) -> str:
    return run_git("rev-parse", ref, cwd=cwd).strip()


def remote_with_feature(tmp_path: Path) -> Path:
    """``main`` and a ``feature`` branch one commit ahead of it."""
    bare = make_remote(tmp_path / "remotes")
    seed = tmp_path / "remotes" / "project.git-seed"
    run_git("checkout", "-q", "-b", "feature", cwd=seed)
    (seed / "models" / "feature.sql").write_text("select 'feature'\n")
    run_git("add", "-A", cwd=seed)
    run_git("commit", "-q", "-m", "feature work", cwd=seed)
    run_git("push", "-q", str(bare), "feature", cwd=seed)
    run_git("checkout", "-q", "main", cwd=seed)
    return bare


def advance_remote_main(tmp_path: Path, bare: Path) -> str:
    seed = tmp_path / "remotes" / "project.git-seed"
    (seed / "models" / "main_only.sql").write_text("select 'main'\n")
    run_git("add", "-A", cwd=seed)
    run_git("commit", "-q", "-m", "main moves on", cwd=seed)
    run_git("push", "-q", str(bare), "main", cwd=seed)
    return rev("main", seed)


def volume_of(tmp_path: Path, bare: Path, user: str = "alice", **kw) -> FakeContext:
    config = pod_config(tmp_path / "volumes" / user, bare.as_uri(), user=user, **kw)
    ensure_checkout(config)
    return make_context(config)


def state(ctx: FakeContext, bare: Path) -> tuple[str, str, str, list[str]]:
    root = ctx.workspace.root
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.parts)
    return rev("main", bare), rev("main", root), rev("HEAD", root), files


def assert_protected(error: dict, before: tuple, ctx: FakeContext, bare: Path) -> None:
    assert error["code"] == errors.PROTECTED_BRANCH, error
    assert error["data"] == {"branch": "main", "suggested_branch": "alice-patch-1"}
    assert "protected primary branch" in error["message"]
    assert state(ctx, bare) == before


async def test_pulling_another_branch_into_main_is_refused_fast_forward(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare)
    before = state(ctx, bare)
    # feature is main plus one commit: this would be a fast-forward of main.
    assert_protected(await ctx.error("git/pull", {"from": "feature"}), before, ctx, bare)


async def test_pulling_another_branch_into_main_is_refused_as_a_merge(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare)
    remote_main = advance_remote_main(tmp_path, bare)
    # The remote's own main is a fast-forward: allowed.
    pulled = await ctx.ok("git/pull")
    assert pulled["outcome"] == "fast-forward" and pulled["commit"] == remote_main
    before = state(ctx, bare)
    # feature forked before main moved on: this would be a merge commit on main.
    assert_protected(await ctx.error("git/pull", {"from": "feature"}), before, ctx, bare)
    assert (await ctx.ok("git/status"))["merging"] is False


async def test_pulling_the_remote_main_into_a_diverged_main_is_refused(tmp_path):
    """A local main with its own commit (made before protection) may not merge origin/main."""
    bare = remote_with_feature(tmp_path)
    loose = volume_of(tmp_path, bare, protect_default_branch=False)
    (loose.workspace.root / "models" / "local.sql").write_text("select 'local'\n")
    await loose.ok("git/commit", {"message": "made while unprotected"})
    advance_remote_main(tmp_path, bare)
    ctx = make_context(dataclasses.replace(loose.workspace.config, protect_default_branch=True))
    before = state(ctx, bare)
    assert_protected(await ctx.error("git/pull"), before, ctx, bare)


async def test_pushing_commits_to_the_remote_main_is_refused(tmp_path):
    bare = remote_with_feature(tmp_path)
    loose = volume_of(tmp_path, bare, protect_default_branch=False)
    (loose.workspace.root / "models" / "local.sql").write_text("select 'local'\n")
    await loose.ok("git/commit", {"message": "made while unprotected"})
    ctx = make_context(dataclasses.replace(loose.workspace.config, protect_default_branch=True))
    before = state(ctx, bare)
    assert_protected(await ctx.error("git/push"), before, ctx, bare)


async def test_pushing_a_branch_whose_upstream_is_main_is_refused(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare)
    await ctx.ok("git/create_branch", {"name": "sneaky"})
    (ctx.workspace.root / "models" / "sneaky.sql").write_text("select 'sneaky'\n")
    await ctx.ok("git/commit", {"message": "sneaky"})
    run_git("config", "branch.sneaky.remote", "origin", cwd=ctx.workspace.root)
    run_git("config", "branch.sneaky.merge", "refs/heads/main", cwd=ctx.workspace.root)
    before = state(ctx, bare)
    assert_protected(await ctx.error("git/push"), before, ctx, bare)


async def test_main_cannot_be_recreated_elsewhere(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare)
    await ctx.ok("git/checkout", {"branch": "feature"})
    run_git("branch", "-D", "main", cwd=ctx.workspace.root)
    before_remote = rev("main", bare)
    error = await ctx.error("git/create_branch", {"name": "main", "base": "feature"})
    assert error["code"] == errors.PROTECTED_BRANCH
    assert "main" not in run_git("branch", "--list", "main", cwd=ctx.workspace.root)
    # Recreating it where the remote has it is fine.
    await ctx.ok("git/create_branch", {"name": "main", "base": "origin/main", "checkout": False})
    assert rev("main", ctx.workspace.root) == before_remote == rev("main", bare)


async def test_commit_and_revert_on_main_are_refused(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare)
    (ctx.workspace.root / "models" / "orders.sql").write_text("select 2\n")
    before = state(ctx, bare)
    assert_protected(await ctx.error("git/commit", {"message": "x"}), before, ctx, bare)
    head = rev("HEAD", ctx.workspace.root)
    assert_protected(await ctx.error("git/revert", {"commit": head}), before, ctx, bare)


async def test_a_feature_branch_pulls_and_pushes_freely(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare)
    advance_remote_main(tmp_path, bare)
    await ctx.ok("git/checkout", {"branch": "feature"})
    merged = await ctx.ok("git/pull", {"from": "main"})
    assert merged["outcome"] == "merged"
    pushed = await ctx.ok("git/push")
    assert pushed["remote_branch"] == "origin/feature"
    assert rev("feature", bare) == merged["commit"]


async def test_without_protection_main_takes_other_branches(tmp_path):
    bare = remote_with_feature(tmp_path)
    ctx = volume_of(tmp_path, bare, protect_default_branch=False)
    assert (await ctx.ok("git/pull", {"from": "feature"}))["outcome"] == "fast-forward"
    await ctx.ok("git/push")
    assert rev("main", bare) == rev("feature", bare)


def test_every_branch_move_is_guarded():
    """Each function that moves a local branch or pushes also calls the one guard.

    Allowed without it: moves to exactly the remote's own state (the clone's first branch,
    a local branch created from its remote one, the background fetch's ``origin/*`` refs and
    the refs of its scratch repository) and the remote's record in the config.
    """
    import ast

    import ide_server.workspace as workspace

    moves = {"create_commit", "set_target", "push", "create"}
    guards = {"refuse_moving_protected", "current_branch_for_commit"}
    allowed = {
        ("clone.py", "clone_into", "create"),
        ("git/background.py", "publish", "create"),
        ("git/branches.py", "checkout_branch", "create"),
        ("git/fetch_child.py", "scratch_repository", "create"),
        ("git/remote.py", "ensure_origin", "create"),
    }
    package = Path(workspace.__file__).parent
    unguarded, seen = set(), set()
    for source in [package / "clone.py", *sorted((package / "git").glob("*.py"))]:
        tree = ast.parse(source.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            called = {
                node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
            }
            if called & guards:
                continue
            for move in sorted(called & moves):
                key = (source.relative_to(package).as_posix(), function.name, move)
                (seen if key in allowed else unguarded).add(key)
    assert unguarded == set()
    assert seen == allowed  # the exceptions are still where they were
