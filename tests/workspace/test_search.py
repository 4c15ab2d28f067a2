"""fs/search: finds text where a person would look, never outside the project or in what
git ignores, and says when it stopped early."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from tests.support.client import Api, RpcFailure
from tests.support.gateway import GatewayProcess


@pytest.fixture(scope="module")
def volume(gateway: GatewayProcess, alice_session: dict) -> Path:
    return gateway.data_dir / "volumes" / "alice" / "demo"


@pytest.fixture(scope="module")
def zone(volume: Path) -> tuple[Path, str]:
    """A folder of our own with a unique word in a few files, an ignored one and traps."""
    word = f"needle{secrets.token_hex(4)}"
    zone = volume / f"searchzone_{secrets.token_hex(3)}"
    (zone / "sub").mkdir(parents=True)
    (zone / "a.sql").write_text(f"select 1\n  -- {word} here\nselect '{word.upper()}'\n")
    (zone / "sub" / "b.yml").write_text(f"name: {word}\n")
    (zone / ".gitignore").write_text("ignored.sql\nbuild/\n")
    (zone / "ignored.sql").write_text(f"-- {word} ignored\n")
    (zone / "build").mkdir()
    (zone / "build" / "out.sql").write_text(f"-- {word} built\n")
    (zone / "blob.bin").write_bytes(b"\x00\x01" + word.encode())
    outside = volume.parent.parent / f"search-outside-{secrets.token_hex(3)}"
    outside.mkdir()
    (outside / "loot.sql").write_text(f"-- {word} outside\n")
    os.symlink(outside, zone / "leakdir")
    os.symlink(outside / "loot.sql", zone / "leak.sql")
    os.symlink(volume.parent, zone / "up")  # .. of the volume: other users' volumes
    (volume / ".ide").mkdir(exist_ok=True)
    (volume / ".ide" / f"{word}.txt").write_text(word)
    return zone, word


async def search(alice: Api, session: dict, **params: object) -> dict:
    async with await alice.rpc(session["id"]) as rpc:
        return await rpc.call("fs/search", params)


async def test_finds_matches_with_line_and_column(
    alice: Api, alice_session: dict, zone: tuple[Path, str]
) -> None:
    folder, word = zone
    name = folder.name
    result = await search(alice, alice_session, query=word)
    found = {(m["path"], m["line"], m["column"]) for m in result["matches"]}
    assert found == {
        (f"{name}/a.sql", 2, 6),
        (f"{name}/a.sql", 3, 9),  # case-insensitive by default
        (f"{name}/sub/b.yml", 1, 7),
    }
    first = next(m for m in result["matches"] if m["line"] == 2)
    assert first["text"] == f"  -- {word} here" and first["length"] == len(word)
    assert result["truncated"] is False

    exact = await search(alice, alice_session, query=word, case_sensitive=True)
    assert {(m["path"], m["line"]) for m in exact["matches"]} == {
        (f"{name}/a.sql", 2),
        (f"{name}/sub/b.yml", 1),
    }
    only_sql = await search(alice, alice_session, query=word, glob="*.sql")
    assert {m["path"] for m in only_sql["matches"]} == {f"{name}/a.sql"}
    scoped = await search(alice, alice_session, query=word, glob=f"{name}/sub/*")
    assert {m["path"] for m in scoped["matches"]} == {f"{name}/sub/b.yml"}


async def test_regex_and_a_bad_regex(
    alice: Api, alice_session: dict, zone: tuple[Path, str]
) -> None:
    folder, word = zone
    result = await search(alice, alice_session, query=rf"--\s+{word}\b", regex=True)
    assert [(m["path"], m["line"]) for m in result["matches"]] == [(f"{folder.name}/a.sql", 2)]
    with pytest.raises(RpcFailure) as failure:
        await search(alice, alice_session, query="(unclosed", regex=True)
    assert failure.value.code == -32602
    assert "regular expression" in failure.value.error["message"]
    # The same text as a literal is fine.
    await search(alice, alice_session, query="(unclosed")
    for bad in ({"query": ""}, {"query": "x", "max_results": 0}):
        with pytest.raises(RpcFailure) as failure:
            await search(alice, alice_session, **bad)
        assert failure.value.code == -32602


async def test_skips_ignored_binary_hidden_and_never_follows_symlinks(
    alice: Api, alice_session: dict, zone: tuple[Path, str]
) -> None:
    """.gitignore'd files, .git, .ide, links out of the volume and up to its parent."""
    _, word = zone
    result = await search(alice, alice_session, query=word)
    paths = {m["path"] for m in result["matches"]}
    texts = " ".join(m["text"] for m in result["matches"])
    assert not any("ignored" in p or "build/" in p or "blob" in p for p in paths), paths
    assert not any("leak" in p or "/up/" in p or p.startswith(".ide") for p in paths), paths
    assert "outside" not in texts
    git = await search(alice, alice_session, query="repositoryformatversion")
    assert not [m for m in git["matches"] if ".git/" in m["path"] or m["path"].startswith(".git")]
    # Another user's volume is never reached through a link up (the word is alice's own).
    upward = await search(alice, alice_session, query=word, glob="*/up/*")
    assert upward["matches"] == []


async def test_stops_at_max_results_and_says_so(
    alice: Api, alice_session: dict, zone: tuple[Path, str]
) -> None:
    _, word = zone
    result = await search(alice, alice_session, query=word, max_results=2)
    assert len(result["matches"]) == 2
    assert result["truncated"] is True and result["truncated_by"] == "results"


def test_search_is_open_to_read_only_members() -> None:
    from ide_server.workspace.methods import build_registry

    method = build_registry().get("fs/search")
    assert method is not None and method.writes is False


async def test_files_lists_what_search_reads(
    alice: Api, alice_session: dict, zone: tuple[Path, str]
) -> None:
    folder, _ = zone
    async with await alice.rpc(alice_session["id"]) as rpc:
        result = await rpc.call("fs/files", {})
    mine = {p for p in result["paths"] if p.startswith(folder.name + "/")}
    name = folder.name
    assert mine == {f"{name}/a.sql", f"{name}/sub/b.yml", f"{name}/.gitignore", f"{name}/blob.bin"}
    assert "dbt_project.yml" in result["paths"]
    assert not [p for p in result["paths"] if p.startswith((".git/", ".ide/"))]


async def test_read_binary_gives_bytes_size_and_whether_text(
    alice: Api, alice_session: dict, zone: tuple[Path, str]
) -> None:
    import base64

    folder, word = zone
    async with await alice.rpc(alice_session["id"]) as rpc:
        blob = await rpc.call("fs/read_binary", {"path": f"{folder.name}/blob.bin"})
        assert blob["text"] is False and blob["size"] == 2 + len(word)
        assert base64.b64decode(blob["base64"]) == b"\x00\x01" + word.encode()
        text = await rpc.call("fs/read_binary", {"path": f"{folder.name}/a.sql"})
        assert text["text"] is True
        for escape in (f"{folder.name}/leak.sql", f"{folder.name}/leakdir/loot.sql", "../x"):
            with pytest.raises(RpcFailure) as failure:
                await rpc.call("fs/read_binary", {"path": escape})
            assert failure.value.code == -32002, escape
