"""git/status and git/diff on a cloned volume."""

from __future__ import annotations

import asyncio

from ide_server.workspace.git.repo import open_repository

from .conftest import run_git


def by_path(status: dict) -> dict[str, dict]:
    return {f["path"]: f for f in status["files"]}


async def test_status_reports_each_kind_of_change(ctx):
    root = ctx.workspace.root
    (root / "models" / "orders.sql").write_text("select 2 as id\n")
    (root / "models" / "customers.sql").unlink()
    (root / "models" / "new.sql").write_text("select 3\n")
    (root / "staged.sql").write_text("select 4\n")
    (root / "target").mkdir()
    (root / ".gitignore").write_text("target/\n")
    (root / "target" / "compiled.sql").write_text("ignored\n")
    (root / ".ide").mkdir()
    (root / ".ide" / "ystore.db").write_text("pod state\n")
    await ctx.ok("git/stage", {"paths": ["staged.sql"]})
    files = by_path(await ctx.ok("git/status"))
    assert files["models/orders.sql"]["status"] == "modified"
    assert files["models/customers.sql"]["status"] == "deleted"
    assert files["models/new.sql"]["status"] == "untracked"
    assert files["staged.sql"] == {
        "path": "staged.sql",
        "status": "added",
        "staged": True,
        "unstaged": False,
    }
    assert "target/compiled.sql" not in files
    assert not any(p.startswith(".ide") for p in files)


async def test_status_pairs_a_moved_file_as_renamed(ctx):
    root = ctx.workspace.root
    (root / "models" / "orders.sql").rename(root / "models" / "fct_orders.sql")
    files = by_path(await ctx.ok("git/status"))
    assert files["models/fct_orders.sql"]["status"] == "renamed"
    assert files["models/fct_orders.sql"]["old_path"] == "models/orders.sql"
    assert "models/orders.sql" not in files
    await ctx.ok("git/stage")
    staged = by_path(await ctx.ok("git/status"))
    assert staged["models/fct_orders.sql"]["status"] == "renamed"
    assert staged["models/fct_orders.sql"]["staged"] is True


async def test_status_counts_ahead_and_behind(ctx, file_remote, tmp_path):
    await ctx.ok("git/create_branch", {"name": "feature"})
    (ctx.workspace.root / "a.sql").write_text("select 1\n")
    await ctx.ok("git/commit", {"message": "a"})
    await ctx.ok("git/push")
    other = tmp_path / "other"
    run_git("clone", "-q", "-b", "feature", str(file_remote), str(other))
    (other / "b.sql").write_text("select 2\n")
    run_git("add", "-A", cwd=other)
    run_git("commit", "-q", "-m", "b", cwd=other)
    run_git("push", "-q", "origin", "feature", cwd=other)
    (ctx.workspace.root / "c.sql").write_text("select 3\n")
    await ctx.ok("git/commit", {"message": "c"})
    await ctx.ok("git/fetch")
    status = await ctx.ok("git/status")
    assert (status["branch"], status["upstream"]) == ("feature", "origin/feature")
    assert (status["ahead"], status["behind"]) == (1, 1)


async def test_diff_of_worktree_and_of_the_index(ctx):
    root = ctx.workspace.root
    (root / "models" / "orders.sql").write_text("select 2 as id\nfrom raw.orders\n")
    (root / "models" / "new.sql").write_text("select 'new'\n")
    everything = await ctx.ok("git/diff")
    assert {f["path"] for f in everything["files"]} == {"models/orders.sql", "models/new.sql"}
    one = (await ctx.ok("git/diff", {"path": "models/orders.sql"}))["files"][0]
    assert one["status"] == "modified" and (one["additions"], one["deletions"]) == (1, 1)
    assert "-select 1 as id" in one["patch"] and "+select 2 as id" in one["patch"]
    assert one["old_text"] == "select 1 as id\nfrom raw.orders\n"
    assert one["new_text"] == "select 2 as id\nfrom raw.orders\n"
    lines = one["hunks"][0]["lines"]
    assert {
        "origin": "-",
        "content": "select 1 as id\n",
        "old_lineno": 1,
        "new_lineno": None,
    } in lines
    assert {
        "origin": "+",
        "content": "select 2 as id\n",
        "old_lineno": None,
        "new_lineno": 1,
    } in lines
    new = (await ctx.ok("git/diff", {"path": "models/new.sql"}))["files"][0]
    assert new["status"] == "untracked" and new["old_text"] is None
    assert (await ctx.ok("git/diff", {"staged": True}))["files"] == []
    await ctx.ok("git/stage", {"paths": ["models/new.sql"]})
    staged = (await ctx.ok("git/diff", {"staged": True, "path": "models/new.sql"}))["files"][0]
    assert staged["status"] == "added" and staged["new_text"] == "select 'new'\n"


async def test_diff_marks_binary_files(ctx):
    (ctx.workspace.root / "logo.png").write_bytes(b"\x89PNG\x00\x01\x02" * 100)
    entry = (await ctx.ok("git/diff", {"path": "logo.png"}))["files"][0]
    assert entry["binary"] is True and entry["hunks"] == []


async def test_paths_outside_the_volume_are_refused(ctx):
    for bad in ("../etc/passwd", "/etc/passwd", ".git/config", ".ide/x"):
        assert (await ctx.error("git/diff", {"path": bad}))["code"] == -32002
        assert (await ctx.error("git/stage", {"paths": [bad]}))["code"] == -32002
        assert (await ctx.error("git/discard", {"paths": [bad]}))["code"] == -32002


async def test_read_only_users_may_look_but_not_change(volume):
    from .conftest import make_context

    viewer = make_context(volume, role="read-only")
    await viewer.ok("git/status")
    await viewer.ok("git/log")
    for method in ("git/stage", "git/commit", "git/push", "git/pull", "git/checkout"):
        assert (await viewer.error(method, {}))["code"] == -32001


async def test_status_runs_off_the_event_loop(ctx):
    # Many concurrent status calls complete while the loop stays free to run other tasks.
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(ctx.ok("git/status") for _ in range(5)))
    task.cancel()
    assert ticks > 0
    open_repository(ctx.workspace.root).free()
