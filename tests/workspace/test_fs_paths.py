"""Path confinement of fs/*: every escape attempt is refused and touches nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.client import Api, RpcFailure
from tests.support.gateway import GatewayProcess

ESCAPES = [
    "../bob/demo/dbt_project.yml",
    "models/../../../../etc/passwd",
    "/etc/passwd",
    "\\etc\\passwd",
    "models/\x00.sql",
    ".git/config",
    ".ide/ystore.db",
    "../demo-evil/secret.txt",
]


@pytest.fixture(scope="module")
def volume(gateway: GatewayProcess, alice_session: dict) -> Path:
    return gateway.data_dir / "volumes" / "alice" / "demo"


@pytest.fixture(scope="module")
def traps(volume: Path) -> dict[str, Path]:
    """A sibling directory sharing the volume's prefix, and symlinks leading out."""
    sibling = volume.parent / "demo-evil"
    sibling.mkdir(exist_ok=True)
    (sibling / "secret.txt").write_text("sibling secret")
    outside = volume.parent.parent / "outside-target"
    outside.mkdir(exist_ok=True)
    (outside / "loot.txt").write_text("outside secret")
    links = {
        "link_file": volume / "leak.txt",
        "link_dir": volume / "leakdir",
        "link_sibling": volume / "sib",
    }
    for link in links.values():
        if link.is_symlink():
            link.unlink()
    os.symlink(outside / "loot.txt", links["link_file"])
    os.symlink(outside, links["link_dir"])
    os.symlink(sibling, links["link_sibling"])
    return {**links, "outside": outside, "sibling": sibling}


@pytest.mark.parametrize(
    "path", ESCAPES + ["leak.txt", "leakdir/loot.txt", "sib/secret.txt", "leakdir/new.txt"]
)
async def test_escapes_are_refused_for_every_method(
    alice: Api, alice_session: dict, traps: dict[str, Path], path: str
) -> None:
    outside_before = sorted(p.name for p in traps["outside"].iterdir())
    async with await alice.rpc(alice_session["id"]) as rpc:
        for method, params in [
            ("fs/read", {"path": path}),
            ("fs/list", {"path": path}),
            ("fs/write", {"path": path, "content": "pwned"}),
            ("fs/delete", {"path": path}),
            ("fs/mkdir", {"path": path + "/sub"}),
            ("fs/rename", {"path": path, "new_path": "stolen.txt"}),
            ("fs/rename", {"path": "dbt_project.yml", "new_path": path}),
        ]:
            with pytest.raises(RpcFailure) as failure:
                await rpc.call(method, params)
            assert failure.value.code in (-32002, -32003), (method, path, failure.value.error)
        assert (await rpc.call("fs/read", {"path": "dbt_project.yml"}))["content"]
    assert (traps["outside"] / "loot.txt").read_text() == "outside secret"
    assert (traps["sibling"] / "secret.txt").read_text() == "sibling secret"
    assert sorted(p.name for p in traps["outside"].iterdir()) == outside_before


async def test_symlinks_inside_the_volume_still_work(
    alice: Api, alice_session: dict, volume: Path
) -> None:
    link = volume / "models-link"
    if not link.is_symlink():
        os.symlink(volume / "models", link)
    async with await alice.rpc(alice_session["id"]) as rpc:
        listing = await rpc.call("fs/list", {"path": "models-link"})
        assert listing["entries"]
    link.unlink()


async def test_collaborative_rooms_refuse_symlinks_out_of_the_volume(
    alice: Api, alice_session: dict, traps: dict[str, Path]
) -> None:
    """Rooms read and write through Jupyter's contents manager: it is confined as fs/* is."""
    from tests.support.ydoc import room, room_text

    sid = alice_session["id"]
    for path in ("leak.txt", "leakdir/loot.txt", "sib/secret.txt"):
        response = alice.http.put(
            f"/sessions/{sid}/api/collaboration/session/{path}",
            json={"format": "text", "type": "file"},
        )
        if response.status_code in (200, 201):
            try:
                async with room(alice, sid, path, session=response.json()) as (doc, _):
                    text = room_text(doc)
            except Exception:  # the room refuses to load the file: what we want
                text = ""
            assert "secret" not in text, path
        else:
            assert response.status_code == 404, response.text
    assert (traps["outside"] / "loot.txt").read_text() == "outside secret"
    assert (traps["sibling"] / "secret.txt").read_text() == "sibling secret"


async def test_hidden_directories_are_refused_through_symlinks(
    alice: Api, alice_session: dict, volume: Path
) -> None:
    alias = volume / "cfg"
    if not alias.is_symlink():
        os.symlink(volume, alias)
    try:
        async with await alice.rpc(alice_session["id"]) as rpc:
            for path in ("cfg/.git/config", "cfg/.ide/ystore.db", ".GIT/config"):
                with pytest.raises(RpcFailure) as failure:
                    await rpc.call("fs/read", {"path": path})
                assert failure.value.code == -32002, path
    finally:
        alias.unlink()


async def test_listing_shows_a_symlink_as_itself_never_its_target(
    alice: Api, alice_session: dict, volume: Path, traps: dict[str, Path]
) -> None:
    """fs/list must not reveal the size or age of a file outside the volume."""
    target = traps["outside"] / "loot.txt"
    os.utime(target, (1_000_000_000, 1_000_000_000))  # an age the link itself cannot have
    inside = volume / "models-alias"
    if not inside.is_symlink():
        os.symlink("models", inside)
    try:
        async with await alice.rpc(alice_session["id"]) as rpc:
            listing = await rpc.call("fs/list", {"path": ""})
    finally:
        inside.unlink()
    entries = {e["name"]: e for e in listing["entries"]}
    for name in ("leak.txt", "leakdir", "sib"):
        link = entries[name]
        own = os.lstat(volume / name)
        assert link["type"] == "symlink" and link["target_type"] is None, link
        assert (link["size"], link["mtime"]) == (own.st_size, own.st_mtime), link
    assert entries["leak.txt"]["size"] != target.stat().st_size
    assert entries["leak.txt"]["mtime"] != 1_000_000_000
    assert entries["models-alias"]["type"] == "symlink"
    assert entries["models-alias"]["target_type"] == "directory"


async def test_listing_hides_every_spelling_of_the_hidden_directories(
    alice: Api, alice_session: dict, volume: Path
) -> None:
    spelled = volume / ".IDE"
    spelled.mkdir(exist_ok=True)
    try:
        async with await alice.rpc(alice_session["id"]) as rpc:
            names = {e["name"] for e in (await rpc.call("fs/list", {"path": ""}))["entries"]}
    finally:
        spelled.rmdir()
    assert not {".IDE", ".ide", ".git"} & names
