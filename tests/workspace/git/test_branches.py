"""git/branches, git/create_branch, git/checkout and git/prune."""

from __future__ import annotations

from ide_server.workspace.git import errors

from .conftest import run_git


async def test_branches_lists_local_remote_and_current(ctx):
    await ctx.ok("git/create_branch", {"name": "feature", "checkout": False})
    listed = await ctx.ok("git/branches")
    assert listed["current"] == "main"
    local = {b["name"]: b for b in listed["local"]}
    assert local["main"]["upstream"] == "origin/main"
    assert local["feature"]["upstream"] is None
    assert [b["name"] for b in listed["remote"]] == ["origin/main"]


async def test_create_branch_from_a_named_base(ctx, file_remote, tmp_path):
    other = tmp_path / "other"
    run_git("clone", "-q", str(file_remote), str(other))
    run_git("checkout", "-q", "-b", "release", cwd=other)
    (other / "release.txt").write_text("v1\n")
    run_git("add", "-A", cwd=other)
    run_git("commit", "-q", "-m", "release", cwd=other)
    run_git("push", "-q", "origin", "release", cwd=other)
    await ctx.ok("git/fetch")
    created = await ctx.ok("git/create_branch", {"name": "hotfix", "base": "release"})
    assert created["base"] == "release"
    assert (ctx.workspace.root / "release.txt").exists()
    assert (await ctx.ok("git/status"))["branch"] == "hotfix"
    default = await ctx.ok("git/create_branch", {"name": "from-main"})
    assert default["base"] == "main" and not (ctx.workspace.root / "release.txt").exists()
    assert (await ctx.error("git/create_branch", {"name": "hotfix"}))["code"] == -32004
    assert (await ctx.error("git/create_branch", {"name": "bad..name"}))["code"] == -32602
    missing = await ctx.error("git/create_branch", {"name": "x", "base": "nope"})
    assert missing["code"] == -32003


async def test_checkout_refuses_to_lose_uncommitted_changes_and_lists_them(ctx):
    root = ctx.workspace.root
    await ctx.ok("git/create_branch", {"name": "feature"})
    (root / "models" / "orders.sql").write_text("feature version\n")
    (root / "models" / "customers.sql").write_text("feature version\n")
    await ctx.ok("git/commit", {"message": "feature"})
    await ctx.ok("git/checkout", {"branch": "main"})
    (root / "models" / "orders.sql").write_text("unsaved on main\n")
    (root / "models" / "customers.sql").write_text("unsaved on main\n")
    (root / "notes.md").write_text("unrelated, carried along\n")
    error = await ctx.error("git/checkout", {"branch": "feature"})
    assert error["code"] == errors.UNCOMMITTED_CHANGES
    assert error["data"]["files"] == ["models/customers.sql", "models/orders.sql"]
    assert (root / "models" / "orders.sql").read_text() == "unsaved on main\n"
    assert (await ctx.ok("git/status"))["branch"] == "main"
    await ctx.ok("git/discard", {"paths": ["models/orders.sql", "models/customers.sql"]})
    await ctx.ok("git/checkout", {"branch": "feature"})
    assert (root / "notes.md").read_text() == "unrelated, carried along\n"
    assert (root / "models" / "orders.sql").read_text() == "feature version\n"


async def test_checkout_of_a_remote_only_branch_tracks_it(ctx, file_remote, tmp_path):
    other = tmp_path / "other"
    run_git("clone", "-q", str(file_remote), str(other))
    run_git("push", "-q", "origin", "main:colleague", cwd=other)
    await ctx.ok("git/fetch")
    result = await ctx.ok("git/checkout", {"branch": "origin/colleague"})
    assert result["branch"] == "colleague"
    status = await ctx.ok("git/status")
    assert (status["branch"], status["upstream"]) == ("colleague", "origin/colleague")
    assert (await ctx.error("git/checkout", {"branch": "nope"}))["code"] == -32003


async def test_prune_deletes_branches_gone_from_the_remote_but_keeps_unpushed_work(
    ctx, file_remote
):
    root = ctx.workspace.root
    for name in ("merged", "unpushed"):
        await ctx.ok("git/create_branch", {"name": name, "base": "main"})
        (root / f"{name}.sql").write_text("select 1\n")
        await ctx.ok("git/commit", {"message": name})
        await ctx.ok("git/push")
    # "unpushed" gets a commit that never reaches the remote.
    (root / "unpushed.sql").write_text("select 2\n")
    await ctx.ok("git/commit", {"message": "local only"})
    await ctx.ok("git/checkout", {"branch": "main"})
    # The remote merges "merged" into main, then both branches are deleted there.
    run_git("update-ref", "refs/heads/main", "refs/heads/merged", cwd=file_remote)
    run_git("branch", "-D", "merged", "unpushed", cwd=file_remote)
    preview = await ctx.ok("git/prune", {"dry_run": True})
    assert preview["deleted"] == ["merged"]
    assert [k["name"] for k in preview["kept"]] == ["unpushed"]
    assert "merged" in {b["name"] for b in (await ctx.ok("git/branches"))["local"]}
    result = await ctx.ok("git/prune")
    assert result["deleted"] == ["merged"]
    names = {b["name"] for b in (await ctx.ok("git/branches"))["local"]}
    assert names == {"main", "unpushed"}
    assert [b["name"] for b in (await ctx.ok("git/branches"))["remote"]] == ["origin/main"]
