"""git/commit, the protected primary branch, and stage / unstage / discard."""

from __future__ import annotations

import dataclasses

from ide_server.workspace.git import errors

from .conftest import make_context, run_git


async def test_commit_on_the_protected_branch_suggests_a_patch_branch(ctx):
    root = ctx.workspace.root
    (root / "models" / "orders.sql").write_text("select 2\n")
    error = await ctx.error("git/commit", {"message": "fix"})
    assert error["code"] == errors.PROTECTED_BRANCH
    assert error["data"] == {"branch": "main", "suggested_branch": "alice-patch-1"}
    # The user takes the suggestion: the branch carries the edit, and the commit lands there.
    await ctx.ok("git/create_branch", {"name": error["data"]["suggested_branch"]})
    assert (root / "models" / "orders.sql").read_text() == "select 2\n"
    result = await ctx.ok("git/commit", {"message": "fix"})
    assert result["branch"] == "alice-patch-1"
    await ctx.ok("git/checkout", {"branch": "main"})
    (root / "x.sql").write_text("select 1\n")
    again = await ctx.error("git/commit", {"message": "more"})
    assert again["data"]["suggested_branch"] == "alice-patch-2"


async def test_protection_is_a_project_setting(volume):
    ctx = make_context(dataclasses.replace(volume, protect_default_branch=False))
    (volume.root / "x.sql").write_text("select 1\n")
    assert (await ctx.ok("git/commit", {"message": "direct"}))["branch"] == "main"


async def test_commit_takes_author_from_the_profile_and_stages_everything(ctx):
    root = ctx.workspace.root
    run_git("config", "user.name", "Config Person", cwd=root)
    await ctx.ok("git/create_branch", {"name": "work"})
    (root / "models" / "orders.sql").write_text("select 2\n")
    (root / "models" / "customers.sql").unlink()
    (root / "models" / "new.sql").write_text("select 3\n")
    result = await ctx.ok("git/commit", {"message": "Everything"})
    assert len(result["commit"]) == 40
    shown = run_git("show", "--name-status", "--format=%an <%ae>|%cn <%ce>|%s", "HEAD", cwd=root)
    header, *changes = [line for line in shown.splitlines() if line]
    assert header == "Alice <alice@example.com>|Alice <alice@example.com>|Everything"
    assert sorted(changes) == [
        "A\tmodels/new.sql",
        "D\tmodels/customers.sql",
        "M\tmodels/orders.sql",
    ]
    assert (await ctx.ok("git/status"))["files"] == []


async def test_commit_with_paths_commits_only_those(ctx):
    root = ctx.workspace.root
    await ctx.ok("git/create_branch", {"name": "work"})
    (root / "models" / "orders.sql").write_text("select 2\n")
    (root / "models" / "customers.sql").write_text("select 3\n")
    await ctx.ok("git/commit", {"message": "orders only", "paths": ["models/orders.sql"]})
    changed = run_git("show", "--name-only", "--format=", "HEAD", cwd=root).split()
    assert changed == ["models/orders.sql"]
    files = (await ctx.ok("git/status"))["files"]
    assert [f["path"] for f in files] == ["models/customers.sql"]


async def test_empty_message_and_empty_commit_are_refused(ctx):
    await ctx.ok("git/create_branch", {"name": "work"})
    assert (await ctx.error("git/commit", {"message": "  \n"}))["code"] == errors.EMPTY_MESSAGE
    assert (await ctx.error("git/commit", {"message": "x"}))["code"] == errors.NOTHING_TO_COMMIT
    assert (await ctx.error("git/commit", {}))["code"] == -32602


async def test_stage_unstage_and_discard(ctx):
    root = ctx.workspace.root
    (root / "models" / "orders.sql").write_text("select 2\n")
    (root / "models" / "deep").mkdir()
    (root / "models" / "deep" / "new.sql").write_text("select 3\n")
    await ctx.ok("git/stage", {"paths": ["models/orders.sql"]})
    files = {f["path"]: f for f in (await ctx.ok("git/status"))["files"]}
    assert files["models/orders.sql"]["staged"] and not files["models/orders.sql"]["unstaged"]
    await ctx.ok("git/unstage")
    files = {f["path"]: f for f in (await ctx.ok("git/status"))["files"]}
    assert not files["models/orders.sql"]["staged"]
    assert (root / "models" / "orders.sql").read_text() == "select 2\n"
    await ctx.ok("git/discard", {"paths": ["models/orders.sql"]})
    assert (root / "models" / "orders.sql").read_text() == "select 1 as id\nfrom raw.orders\n"
    await ctx.ok("git/stage")
    await ctx.ok("git/discard")
    assert not (root / "models" / "deep").exists()
    assert (await ctx.ok("git/status"))["files"] == []


async def test_discard_treats_special_characters_literally(ctx):
    root = ctx.workspace.root
    (root / "models" / "[a]*.sql").write_text("select 1\n")
    run_git("add", "-A", cwd=root)
    run_git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "odd name", cwd=root)
    (root / "models" / "[a]*.sql").write_text("changed\n")
    (root / "models" / "orders.sql").write_text("also changed\n")
    await ctx.ok("git/discard", {"paths": ["models/[a]*.sql"]})
    assert (root / "models" / "[a]*.sql").read_text() == "select 1\n"
    assert (root / "models" / "orders.sql").read_text() == "also changed\n"
