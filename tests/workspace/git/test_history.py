"""git/log (pages, one file) and git/revert."""

from __future__ import annotations

from ide_server.workspace.git import errors

from .conftest import run_git


async def commit_file(ctx, path: str, text: str, message: str) -> str:
    target = ctx.workspace.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return (await ctx.ok("git/commit", {"message": message, "paths": [path]}))["commit"]


async def test_log_pages_and_file_history(ctx):
    await ctx.ok("git/create_branch", {"name": "work"})
    for n in range(7):
        await commit_file(ctx, "models/orders.sql" if n % 2 else "other.sql", f"{n}\n", f"c{n}")
    first = await ctx.ok("git/log", {"limit": 3})
    assert [c["summary"] for c in first["commits"]] == ["c6", "c5", "c4"]
    assert first["next_skip"] == 3
    rest = await ctx.ok("git/log", {"skip": 3, "limit": 10})
    assert [c["summary"] for c in rest["commits"]] == ["c3", "c2", "c1", "c0", "Initial project"]
    assert rest["next_skip"] is None
    orders = await ctx.ok("git/log", {"path": "models/orders.sql"})
    assert [c["summary"] for c in orders["commits"]] == ["c5", "c3", "c1", "Initial project"]
    on_main = await ctx.ok("git/log", {"ref": "main"})
    assert [c["summary"] for c in on_main["commits"]] == ["Initial project"]
    assert (await ctx.error("git/log", {"ref": "nope"}))["code"] == -32003


async def test_revert_one_commit(ctx):
    root = ctx.workspace.root
    await ctx.ok("git/create_branch", {"name": "work"})
    bad = await commit_file(ctx, "models/orders.sql", "select 'broken'\n", "break orders")
    await commit_file(ctx, "other.sql", "select 2\n", "unrelated")
    (root / "notes.md").write_text("uncommitted, kept\n")
    result = await ctx.ok("git/revert", {"commit": bad})
    assert result["reverted"] == bad
    assert (root / "models" / "orders.sql").read_text() == "select 1 as id\nfrom raw.orders\n"
    assert (root / "other.sql").read_text() == "select 2\n"
    assert (root / "notes.md").read_text() == "uncommitted, kept\n"
    subject = run_git("log", "-1", "--format=%s%n%b", cwd=root)
    assert subject.startswith('Revert "break orders"') and bad in subject
    assert [f["path"] for f in (await ctx.ok("git/status"))["files"]] == ["notes.md"]
    assert (await ctx.error("git/revert", {"commit": bad}))["code"] == errors.NOTHING_TO_COMMIT


async def test_revert_that_conflicts_changes_nothing(ctx):
    root = ctx.workspace.root
    await ctx.ok("git/create_branch", {"name": "work"})
    first = await commit_file(ctx, "models/orders.sql", "one\n", "one")
    await commit_file(ctx, "models/orders.sql", "two\n", "two")
    head = run_git("rev-parse", "HEAD", cwd=root)
    error = await ctx.error("git/revert", {"commit": first})
    assert error["code"] == errors.UNRESOLVED_CONFLICTS
    assert error["data"]["files"] == ["models/orders.sql"]
    assert run_git("rev-parse", "HEAD", cwd=root) == head
    assert (root / "models" / "orders.sql").read_text() == "two\n"
    assert (await ctx.ok("git/status"))["merging"] is False


async def test_revert_is_refused_on_the_protected_branch(ctx):
    head = run_git("rev-parse", "HEAD", cwd=ctx.workspace.root).strip()
    error = await ctx.error("git/revert", {"commit": head})
    assert error["code"] == errors.PROTECTED_BRANCH
    assert (await ctx.error("git/revert", {"commit": "0" * 40}))["code"] in (
        -32003,
        errors.PROTECTED_BRANCH,
    )


async def test_show_gives_a_commits_diff_against_its_parent(ctx):
    await ctx.ok("git/create_branch", {"name": "work"})
    change = await commit_file(ctx, "models/orders.sql", "select 2 as id\nfrom raw.orders\n", "two")
    shown = await ctx.ok("git/show", {"commit": change})
    assert shown["commit"]["id"] == change and shown["commit"]["summary"] == "two"
    [file] = shown["files"]
    assert file["path"] == "models/orders.sql" and file["status"] == "modified"
    assert (file["additions"], file["deletions"]) == (1, 1)
    assert "-select 1 as id" in file["patch"] and "+select 2 as id" in file["patch"]
    root = (await ctx.ok("git/log", {"ref": "main"}))["commits"][-1]["id"]
    initial = await ctx.ok("git/show", {"commit": root})
    assert {f["status"] for f in initial["files"]} == {"added"}
    assert (await ctx.error("git/show", {"commit": "nope"}))["code"] == -32003
