"""Collaborative documents: the room is the editor buffer, the disk follows it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from pycrdt import Doc, Text

from tests.support.client import Api
from tests.support.gateway import GatewayProcess
from tests.support.ydoc import (
    decode_raw_reply,
    encode_save_request,
    eventually,
    open_file_session,
    room,
    room_state,
    room_text,
)


def _volume(gateway: GatewayProcess, user: str) -> Path:
    return gateway.data_dir / "volumes" / user / "demo"


async def test_typing_reaches_the_disk_after_the_save_delay(
    alice: Api, alice_session: dict, gateway: GatewayProcess
) -> None:
    sid = alice_session["id"]
    path = "models/staging/typed.sql"
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": "select 1\n"})
    async with room(alice, sid, path) as (doc, _):
        assert room_text(doc) == "select 1\n"
        text = doc.get("source", type=Text)
        text.insert(len(text), "union all select 2\n")
        target = _volume(gateway, "alice") / path
        await eventually(lambda: target.read_text() == "select 1\nunion all select 2\n")
        await eventually(lambda: room_state(doc).get("dirty") is False)


async def test_ctrl_s_saves_at_once(
    alice: Api, alice_session: dict, gateway: GatewayProcess
) -> None:
    sid = alice_session["id"]
    path = "models/staging/saved.sql"
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": ""})
    async with room(alice, sid, path) as (doc, channel):
        doc.get("source", type=Text).insert(0, "select 'saved' as s\n")
        await asyncio.sleep(0.05)
        await channel.send(encode_save_request(7))
        reply = json.loads(decode_raw_reply(await asyncio.wait_for(channel.raw_replies.get(), 10)))
        assert reply["type"] == "save" and reply["responseTo"] == 7
        assert reply["status"] in ("success", "skipped")
        await eventually(
            lambda: (_volume(gateway, "alice") / path).read_text() == "select 'saved' as s\n"
        )


async def test_a_change_on_disk_reaches_open_editors(alice: Api, alice_session: dict) -> None:
    sid = alice_session["id"]
    path = "models/staging/outside.sql"
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": "select 'old'\n"})
        async with room(alice, sid, path) as (doc, _):
            assert room_text(doc) == "select 'old'\n"
            await rpc.call("fs/write", {"path": path, "content": "select 'new'\n"})
            await eventually(lambda: room_text(doc) == "select 'new'\n")


async def test_two_editors_converge(alice: Api, alice_session: dict) -> None:
    sid = alice_session["id"]
    path = "models/staging/pair.sql"
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": ""})
    async with room(alice, sid, path) as (first, _), room(alice, sid, path) as (second, _):
        for i in range(20):
            doc = first if i % 2 else second
            text = doc.get("source", type=Text)
            text.insert(len(text) if i % 3 else 0, f"-- line {i}\n")
        await eventually(
            lambda: (
                room_text(first) == room_text(second) and room_text(first).count("-- line") == 20
            )
        )


async def test_pod_restart_and_reconnect_does_not_duplicate_text(
    bob: Api, gateway: GatewayProcess
) -> None:
    session = bob.open_session("demo")
    sid = session["id"]
    path = "models/staging/restart.sql"
    async with await bob.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": ""})
    kept = Doc()
    first = open_file_session(bob, sid, path)
    async with room(bob, sid, path, doc=kept, session=first) as (doc, _):
        doc.get("source", type=Text).insert(0, "select 'once' as word\n")
        await eventually(
            lambda: (_volume(gateway, "bob") / path).read_text() == "select 'once' as word\n"
        )
    os.kill(gateway.pod_pid(sid), signal.SIGKILL)
    # The next request notices the dead pod; opening the project starts a new one.
    await eventually(
        lambda: (
            bob.http.put(f"/sessions/{sid}/api/collaboration/session/x", json={}).status_code
            in (409, 502)
        )
    )
    await eventually(lambda: bob.http.get(f"/api/sessions/{sid}").json()["state"] == "stopped")
    fresh = bob.open_session("demo")
    assert fresh["id"] != sid
    # A client that kept its document reconnects with it: the text must not double.
    second = open_file_session(bob, fresh["id"], path)
    assert second["fileId"] == first["fileId"]  # the file-id database lives on the volume
    try:
        async with room(bob, fresh["id"], path, doc=kept, session=second) as (doc, _):
            await asyncio.sleep(1.5)
            assert room_text(doc) == "select 'once' as word\n"
    except Exception:  # the pod may refuse an old document (1003); a fresh one must be right
        async with room(bob, fresh["id"], path) as (doc, _):
            assert room_text(doc) == "select 'once' as word\n"
    async with room(bob, fresh["id"], path) as (doc, _):
        assert room_text(doc) == "select 'once' as word\n"
    await asyncio.sleep(1)
    assert (_volume(gateway, "bob") / path).read_text() == "select 'once' as word\n"
    runtime = _volume(gateway, "bob") / ".ide"
    assert (runtime / "ystore.db").exists() and (runtime / "file_id.db").exists()
    bob.http.delete(f"/api/sessions/{fresh['id']}")


async def test_read_only_member_cannot_change_a_document(
    carol: Api, gateway: GatewayProcess
) -> None:
    session = carol.open_session("demo")
    path = "dbt_project.yml"
    before = (_volume(gateway, "carol") / path).read_text()
    async with room(carol, session["id"], path) as (doc, _):
        doc.get("source", type=Text).insert(0, "# vandalism\n")
        await asyncio.sleep(1.5)
    async with room(carol, session["id"], path) as (doc, _):
        assert room_text(doc) == before
    assert (_volume(gateway, "carol") / path).read_text() == before
