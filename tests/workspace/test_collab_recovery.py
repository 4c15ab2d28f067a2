"""Unsaved text survives a pod crash: the Y store wins over a disk that did not change.

Text is typed, the pod is killed (kill -9) before or after its save delay ran out, and
the file is opened again on the next pod: the text is there, once, for a fresh editor and
for an editor that kept its document and reconnects. When the file also changed on disk
meanwhile, both versions are kept and the room says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from pycrdt import Doc, Text

from tests.support.client import Api
from tests.support.gateway import GatewayProcess
from tests.support.pods import developer, kill_pod, next_session
from tests.support.ydoc import (
    decode_raw_reply,
    encode_save_request,
    eventually,
    open_file_session,
    room,
    room_state,
    room_text,
)

BEFORE = "select 1 as id\n"
TYPED = "-- typed just before the crash\n"


@pytest.fixture(scope="module")
def gina(gateway: GatewayProcess) -> Api:
    return developer(gateway, "gina")


def _file(gateway: GatewayProcess, path: str) -> Path:
    return gateway.data_dir / "volumes" / "gina" / "demo" / path


def _stored_updates(gateway: GatewayProcess) -> int:
    """How many Y updates the pod's store on the volume holds (read-only, beside the pod)."""
    store = gateway.data_dir / "volumes" / "gina" / "demo" / ".ide" / "ystore.db"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
            return int(db.execute("SELECT count(*) FROM yupdates").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet, or busy with a write
        return -1


async def _type_then_crash(
    api: Api, gateway: GatewayProcess, path: str, delay: float
) -> tuple[str, Doc, dict]:
    """Type into a room, kill the pod ``delay`` s after its store has the text; the dead id."""
    sid = api.open_session("demo")["id"]
    async with await api.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": BEFORE})
    kept = Doc()
    first = open_file_session(api, sid, path)
    async with room(api, sid, path, doc=kept, session=first) as (doc, _):
        await eventually(lambda: _stored_updates(gateway) >= 0, interval=0.01)
        stored = _stored_updates(gateway)
        text = doc.get("source", type=Text)
        text.insert(len(text), TYPED)
        # The edit reached the store on the volume (what a crash keeps); the save is later.
        await eventually(lambda: _stored_updates(gateway) > stored, interval=0.005)
        await asyncio.sleep(delay)
        kill_pod(gateway, sid)
    return sid, kept, first


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.6])
async def test_text_typed_before_a_crash_is_there_once_after_reopening(
    gina: Api, gateway: GatewayProcess, delay: float
) -> None:
    path = f"models/staging/unsaved_{int(delay * 100)}.sql"
    dead, kept, first = await _type_then_crash(gina, gateway, path, delay)
    fresh = (await asyncio.to_thread(next_session, gina, dead))["id"]
    async with room(gina, fresh, path) as (doc, _):
        assert room_text(doc) == BEFORE + TYPED
    # A tab that kept its document reconnects with it: nothing lost, nothing doubled.
    second = open_file_session(gina, fresh, path)
    assert second["fileId"] == first["fileId"]
    async with room(
        gina, fresh, path, doc=kept, session={**second, "sessionId": first["sessionId"]}
    ) as (doc, _):
        await asyncio.sleep(1)
        assert room_text(doc) == BEFORE + TYPED
    async with room(gina, fresh, path) as (doc, _):
        assert room_text(doc) == BEFORE + TYPED
    await eventually(lambda: _file(gateway, path).read_text() == BEFORE + TYPED)
    gina.http.delete(f"/api/sessions/{fresh}")


async def test_edits_and_a_changed_file_are_both_kept_with_a_notice(
    gina: Api, gateway: GatewayProcess
) -> None:
    path = "models/staging/both_changed.sql"
    dead, _, _ = await _type_then_crash(gina, gateway, path, 0.0)
    outside = "select 'changed by someone else' as x\n"
    _file(gateway, path).write_text(outside)  # while no pod runs, e.g. a sync of the volume
    fresh = (await asyncio.to_thread(next_session, gina, dead))["id"]
    async with room(gina, fresh, path) as (doc, channel):
        assert room_text(doc) == BEFORE + TYPED
        notice = room_state(doc).get("ide_conflict")
        assert notice and "changed on disk" in notice["message"]
        await asyncio.sleep(1.5)  # autosave would have run by now: it must not decide
        assert _file(gateway, path).read_text() == outside
        async with await gina.rpc(fresh) as rpc:  # the other side, to compare
            assert (await rpc.call("fs/read", {"path": path}))["content"] == outside
        await channel.send(encode_save_request(1))  # the user keeps the edits
        reply = json.loads(decode_raw_reply(await asyncio.wait_for(channel.raw_replies.get(), 10)))
        assert reply["status"] == "success"
        await eventually(lambda: _file(gateway, path).read_text() == BEFORE + TYPED)
        await eventually(lambda: room_state(doc).get("ide_conflict") is None)
    gina.http.delete(f"/api/sessions/{fresh}")
