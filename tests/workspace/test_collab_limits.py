"""One document size limit on every path, and reloads that never freeze the pod.

A document may be at most half the message limit (8 MiB here, so 4 MiB): ``fs/write``,
``fs/read``, a room opening a file and a room taking an edit all apply it, so whatever was
saved can be opened again. And a large reload (a 1 MB file rewritten on disk while open in
a room) leaves other sockets answered.
"""

from __future__ import annotations

import asyncio

import pytest
import websockets
from pycrdt import Text

from tests.support.client import Api, RpcFailure
from tests.support.gateway import GatewayProcess
from tests.support.pods import developer
from tests.support.ydoc import eventually, open_file_session, room, room_text

LIMIT = 4 * 1024 * 1024
TOO_LARGE = -32008


@pytest.fixture(scope="module")
def hugo(gateway: GatewayProcess) -> Api:
    return developer(gateway, "hugo")


@pytest.fixture(scope="module")
def sid(hugo: Api) -> str:
    return hugo.open_session("demo")["id"]


def _filled(size: int) -> str:
    line = "-- " + "x" * 60 + "\n"
    return (line * (size // len(line) + 1))[:size]


async def test_fs_write_accepts_the_limit_and_refuses_one_byte_more(hugo: Api, sid: str) -> None:
    path = "seeds/at_limit.csv"
    async with await hugo.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": _filled(LIMIT)})
        assert (await rpc.call("fs/read", {"path": path}))["content"] == _filled(LIMIT)
        with pytest.raises(RpcFailure) as failure:
            await rpc.call("fs/write", {"path": path, "content": _filled(LIMIT + 1)})
        assert failure.value.code == TOO_LARGE and "larger than" in str(failure.value)
        assert (await rpc.call("fs/read", {"path": path}))["content"] == _filled(LIMIT)
    async with room(hugo, sid, path) as (doc, _):  # what was saved opens again
        assert room_text(doc) == _filled(LIMIT)


async def test_a_file_past_the_limit_is_refused_by_every_reader_with_a_reason(
    hugo: Api, sid: str, gateway: GatewayProcess
) -> None:
    path = "seeds/past_limit.csv"
    big = gateway.data_dir / "volumes" / "hugo" / "demo" / path
    big.write_text(_filled(LIMIT + 1))  # written by something else (git, a tool)
    async with await hugo.rpc(sid) as rpc:
        with pytest.raises(RpcFailure) as failure:
            await rpc.call("fs/read", {"path": path})
        assert failure.value.code == TOO_LARGE
    session = open_file_session(hugo, sid, path)
    url = hugo.ws_url(
        f"/sessions/{sid}/api/collaboration/room/text:file:{session['fileId']}"
        f"?sessionId={session['sessionId']}"
    )
    async with websockets.connect(url, additional_headers=hugo.ws_headers(), max_size=None) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 20)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003
    assert "larger than" in closed.value.rcvd.reason


async def test_a_room_takes_edits_up_to_the_limit_and_refuses_past_it(
    hugo: Api, sid: str, gateway: GatewayProcess
) -> None:
    path = "seeds/growing.csv"
    start = _filled(LIMIT - 10_000)
    async with await hugo.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": start})
    async with room(hugo, sid, path) as (doc, _):
        doc.get("source", type=Text).insert(0, "-- fits\n")
        target = gateway.data_dir / "volumes" / "hugo" / "demo" / path
        await eventually(lambda: target.read_text() == "-- fits\n" + start)
    channels = []
    try:
        async with room(hugo, sid, path) as (doc, channel):
            channels.append(channel)
            doc.get("source", type=Text).insert(0, "y" * 20_000)
            await asyncio.wait_for(channel.ws.wait_closed(), 20)
    except* websockets.ConnectionClosed:
        pass
    ws = channels[0].ws
    assert ws.close_code == 4413 and "refused" in (ws.close_reason or "")
    await asyncio.sleep(1)  # past the save delay: nothing of the refused edit is saved
    assert target.read_text() == "-- fits\n" + start
    async with room(hugo, sid, path) as (doc, _):
        assert room_text(doc) == "-- fits\n" + start


async def test_a_large_reload_leaves_other_sockets_answered(hugo: Api, sid: str) -> None:
    path = "models/large_reload.sql"
    lines = [f"select {i} as col_{i}, 'padding' as p from t\n" for i in range(25_000)]
    original = "".join(lines)  # about 1 MB
    # Every 40th line changed: a similar variant, the worst case of a character diff.
    variant = "".join(line.upper() if i % 40 == 0 else line for i, line in enumerate(lines))
    async with await hugo.rpc(sid) as writer, await hugo.rpc(sid) as other:
        await writer.call("fs/write", {"path": path, "content": original})
        async with room(hugo, sid, path) as (doc, _):
            assert room_text(doc) == original
            write = asyncio.ensure_future(
                writer.call("fs/write", {"path": path, "content": variant}, timeout=600)
            )
            for _ in range(20):  # the pod keeps answering while it reloads the room
                assert await other.call("session/heartbeat", timeout=10) == {"ok": True}
            await write
            await eventually(lambda: room_text(doc) == variant)
