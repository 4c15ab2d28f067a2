"""Git never populates the volume's reserved directories (``.ide/``, ``.git/``).

Each hostile branch is served by a real remote and tried on every route that writes the
working tree from a tree: clone, checkout, pull (fast-forward and merge) and revert.
Every one must be refused with -32022 before a single file is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pygit2
import pytest

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.git import errors
from ide_server.workspace.git.repo import open_repository
from ide_server.workspace.git.reserved import Entry, problems
from ide_server.workspace.rpc import RpcError

from .conftest import TOKEN, FakeContext, make_context, make_remote, pod_config
from .hostile import LINK, Node, add_commit, remove_again, reserved_cases

CASES = sorted(reserved_cases(Path("/marker")))
FINE = [
    Node(".idea/workspace.xml"),
    Node(".ide-notes.md"),
    Node("docs/.ide/readme.md"),  # only the volume's own .ide is reserved
    Node("current", LINK, b"models"),
    Node("up", LINK, b"../shared/macros"),
]


def snapshot(ctx: FakeContext) -> tuple[list[str], str, dict[str, int]]:
    """What a refused operation must leave alone: the files, HEAD and the status."""
    root = ctx.workspace.root
    files = sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, dirs, names in os.walk(root)
        if ".git" not in Path(d).relative_to(root).parts[:1]
        for f in names + [x for x in dirs if os.path.islink(os.path.join(d, x))]
    )
    repo = open_repository(root)
    try:
        return files, str(repo.head.target), repo.status()
    finally:
        repo.free()


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A remote holding every hostile branch; returns (bare repository, marker)."""
    bare = make_remote(tmp_path / "remotes")
    marker = tmp_path / "ran"
    for name, nodes in reserved_cases(marker).items():
        add_commit(bare, name, nodes)
    return bare, marker


def volume_of(tmp_path: Path, bare: Path) -> FakeContext:
    config = pod_config(tmp_path / "volumes" / "alice", bare.as_uri())
    ensure_checkout(config)
    return make_context(config)


def assert_refused(error: dict, before: tuple, ctx: FakeContext, marker: Path) -> None:
    assert error["code"] == errors.RESERVED_PATHS, error
    assert "reserves" in error["message"] and "Nothing was changed" in error["message"]
    assert error["data"]["files"]
    assert snapshot(ctx) == before
    assert not marker.exists()


@pytest.mark.parametrize("case", CASES)
async def test_checkout_of_a_hostile_branch_is_refused(tmp_path, hostile, case):
    bare, marker = hostile
    ctx = volume_of(tmp_path, bare)
    await ctx.ok("git/fetch")
    before = snapshot(ctx)
    assert_refused(await ctx.error("git/checkout", {"branch": case}), before, ctx, marker)
    assert (await ctx.ok("git/branches"))["current"] == "main"
    # Creating a branch from it and switching to it is the same write.
    error = await ctx.error("git/create_branch", {"name": f"mine-{case}", "base": case})
    assert_refused(error, before, ctx, marker)


@pytest.mark.parametrize("case", CASES)
async def test_pulling_a_hostile_branch_is_refused_fast_forward_or_merge(tmp_path, hostile, case):
    bare, marker = hostile
    ctx = volume_of(tmp_path, bare)
    await ctx.ok("git/create_branch", {"name": "alice-work"})
    before = snapshot(ctx)
    # alice-work is at main: the hostile branch would be a fast-forward.
    assert_refused(await ctx.error("git/pull", {"from": case}), before, ctx, marker)
    (ctx.workspace.root / "models" / "mine.sql").write_text("select 'mine'\n")
    await ctx.ok("git/commit", {"message": "my own work"})
    before = snapshot(ctx)
    # Now it would be a true merge, written by libgit2's merge.
    assert_refused(await ctx.error("git/pull", {"from": case}), before, ctx, marker)
    repo = open_repository(ctx.workspace.root)
    assert repo.state() == pygit2.enums.RepositoryState.NONE
    repo.free()


@pytest.mark.parametrize("case", ["upper-case", "symlink-named-ide", "write-through-symlink"])
async def test_reverting_the_removal_of_hostile_files_is_refused(tmp_path, hostile, case):
    bare, marker = hostile
    cleanup = remove_again(bare, case)  # the branch's tip is clean again
    ctx = volume_of(tmp_path, bare)
    await ctx.ok("git/fetch")
    await ctx.ok("git/checkout", {"branch": case})
    before = snapshot(ctx)
    error = await ctx.error("git/revert", {"commit": cleanup})
    assert_refused(error, before, ctx, marker)


@pytest.mark.parametrize("case", CASES)
def test_a_clone_of_a_hostile_primary_branch_is_refused(tmp_path, case):
    bare = make_remote(tmp_path / "remotes")
    marker = tmp_path / "ran"
    add_commit(bare, "main", reserved_cases(marker)[case])
    config = pod_config(tmp_path / "volumes" / "alice", bare.as_uri())
    with pytest.raises(RpcError) as caught:
        ensure_checkout(config)
    assert caught.value.code == errors.RESERVED_PATHS
    assert "cloning branch main" in caught.value.message
    assert not config.root.exists() or not any(config.root.iterdir())
    assert not list(config.root.parent.glob(".alice.clone-*")), "the temporary clone was left"
    assert not marker.exists()


async def test_a_clean_branch_still_checks_out_pulls_and_merges(tmp_path, hostile):
    """The check must not refuse what is fine: dotfiles, lookalikes, symlinks in the project."""
    bare, _ = hostile
    add_commit(bare, "fine", FINE)
    ctx = volume_of(tmp_path, bare)
    await ctx.ok("git/fetch")
    await ctx.ok("git/checkout", {"branch": "fine"})
    root = ctx.workspace.root
    assert (root / ".idea" / "workspace.xml").exists()
    assert os.readlink(root / "current") == "models"
    await ctx.ok("git/checkout", {"branch": "main"})
    await ctx.ok("git/create_branch", {"name": "alice-work"})
    (root / "models" / "mine.sql").write_text("select 'mine'\n")
    await ctx.ok("git/commit", {"message": "mine"})
    assert (await ctx.ok("git/pull", {"from": "fine"}))["outcome"] == "merged"


@pytest.mark.parametrize(
    "path",
    [
        ".ide/x",
        "./.ide/x",
        ".//.ide/x",
        ".ide\\x",
        "\uff0eide/x",  # a full-width dot: NFKC folds it to "."
        ".ide::$INDEX_ALLOCATION/x",
        ".ide /x",
        "GIT~1/config",
        "a/../.ide/x",
    ],
)
def test_every_spelling_of_a_reserved_path_is_caught(path):
    assert problems([Entry(path, 0o100644)])


def test_the_message_names_the_paths(tmp_path):
    bare = make_remote(tmp_path / "remotes")
    add_commit(bare, "main", reserved_cases(tmp_path / "ran")["upper-case"])
    with pytest.raises(RpcError) as caught:
        ensure_checkout(pod_config(tmp_path / "v" / "alice", bare.as_uri()))
    assert ".IDE/kernels/ide-sql/kernel.json" in caught.value.message
    assert caught.value.data == {
        "files": [".IDE/kernels/ide-sql/kernel.json (inside .IDE, which the IDE manages)"],
        "count": 1,
    }


def test_every_write_of_a_tree_goes_through_the_check():
    """The check holds only if no code writes the working tree past it.

    pygit2's calls that write files from a tree or an index are allowed in exactly the
    places that run the reserved-path check first.
    """
    import re

    import ide_server

    writers = re.compile(
        r"\brepo\.(checkout_tree|checkout_head|checkout_index|checkout|merge|reset|stash_apply|"
        r"stash_pop|cherrypick|apply|revert)\("
    )
    allowed = {
        ("workspace/git/worktree.py", "checkout_tree"),
        ("workspace/git/worktree.py", "checkout_head"),
        ("workspace/git/merge.py", "merge"),
    }
    package = Path(ide_server.__file__).parent
    found = set()
    for source in package.rglob("*.py"):
        for match in writers.finditer(source.read_text()):
            found.add((source.relative_to(package).as_posix(), match.group(1)))
    assert found == allowed


async def test_over_http_clone_checkout_and_pull_are_refused_alike(tmp_path, http_remote):
    """The same refusals when the hostile branch comes from the HTTP remote with a token."""
    served = tmp_path / "served" / "project.git"
    marker = tmp_path / "ran"
    cases = reserved_cases(marker)
    for name in ("upper-case", "write-through-symlink", "symlink-named-ide"):
        add_commit(served, name, cases[name])
    url = http_remote.url("project.git")
    ctx = make_context(pod_config(tmp_path / "volumes" / "alice", url, token=TOKEN))
    ensure_checkout(ctx.workspace.config)
    await ctx.ok("git/fetch")
    await ctx.ok("git/create_branch", {"name": "alice-work"})
    before = snapshot(ctx)
    for name in ("upper-case", "write-through-symlink", "symlink-named-ide"):
        assert_refused(await ctx.error("git/checkout", {"branch": name}), before, ctx, marker)
        assert_refused(await ctx.error("git/pull", {"from": name}), before, ctx, marker)
    add_commit(served, "main", cases["upper-case"])
    fresh = pod_config(tmp_path / "volumes" / "bob", url, user="bob", token=TOKEN)
    with pytest.raises(RpcError) as caught:
        ensure_checkout(fresh)
    assert caught.value.code == errors.RESERVED_PATHS
    assert TOKEN not in caught.value.message
