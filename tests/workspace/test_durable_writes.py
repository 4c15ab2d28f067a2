"""Writes survive a crash: kill -9 of the pod at each step of a save leaves old or new.

Room saves (the contents manager) and ``fs/write`` share one durable write path. inotify
tells the test exactly when the pod creates the temporary file, first writes new content,
and renames it; the pod is killed right then. Afterwards the file holds the old content or
the new one, nothing else, and nothing the crash left is shown or kept.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from pycrdt import Text

from tests.support.client import Api
from tests.support.gateway import GatewayProcess
from tests.support.inotify import STAGES
from tests.support.pods import developer, kill_pod, next_session
from tests.support.ydoc import room, room_text

OLD = "-- the old version of this model\n" * 60_000  # about 2 MB
NEW = "-- a rewritten version, longer\n" * 90_000  # about 2.8 MB
DIRECTORY = "models/staging"


@pytest.fixture(scope="module")
def frank(gateway: GatewayProcess) -> Api:
    return developer(gateway, "durable_frank")


def _volume(gateway: GatewayProcess) -> Path:
    return gateway.data_dir / "volumes" / "durable_frank" / "demo"


async def _kill_at(gateway: GatewayProcess, sid: str, stage: str, path: str) -> asyncio.Future:
    """A killer process watching the file's directory, ready before the write begins."""
    target = _volume(gateway) / path
    killer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.inotify",
        str(target.parent),
        stage,
        target.name,
        str(gateway.pod_pid(sid)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert killer.stdout is not None
    assert (await killer.stdout.readline()).strip() == b"watching"
    return asyncio.ensure_future(killer.communicate())


async def _write_through_room(api: Api, sid: str, path: str) -> None:
    async with room(api, sid, path) as (doc, _):
        text = doc.get("source", type=Text)
        with doc.transaction():
            del text[0 : len(text)]
            text.insert(0, NEW)
        await asyncio.sleep(30)  # the pod saves after its delay and is killed meanwhile


async def _write_through_rpc(api: Api, sid: str, path: str) -> None:
    async with await api.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": NEW})


async def _check_after_restart(api: Api, gateway: GatewayProcess, dead: str, path: str) -> None:
    target = _volume(gateway) / path
    assert target.read_text() in (OLD, NEW), "the crash tore the file"
    fresh = await asyncio.to_thread(next_session, api, dead)
    leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == [], f"the crash left {leftovers} after the pod started again"
    async with await api.rpc(fresh["id"]) as rpc:
        listed = await rpc.call("fs/list", {"path": DIRECTORY})
        assert [e for e in listed["entries"] if e["name"].startswith(".")] == []
        status = await rpc.call("git/status")
        assert [f for f in status["files"] if "/." in "/" + f["path"]] == []
        assert (await rpc.call("fs/read", {"path": path}))["content"] in (OLD, NEW)
    async with room(api, fresh["id"], path) as (doc, _):
        assert room_text(doc) in (OLD, NEW)
    api.http.delete(f"/api/sessions/{fresh['id']}")


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("writer", ["room", "fs-write"])
async def test_a_kill_during_a_save_leaves_old_or_new(
    frank: Api, gateway: GatewayProcess, stage: str, writer: str
) -> None:
    sid = frank.open_session("demo")["id"]
    path = f"{DIRECTORY}/crash_{writer}_{stage}.sql"
    async with await frank.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": OLD})
    write = _write_through_room if writer == "room" else _write_through_rpc
    killed = await _kill_at(gateway, sid, stage, path)
    writing = asyncio.ensure_future(write(frank, sid, path))
    out, _ = await killed
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    assert out.strip() != b"timeout", "the pod never wrote the file"
    await _check_after_restart(frank, gateway, sid, path)


def test_leftovers_of_a_crash_are_cleaned_when_the_pod_starts(
    frank: Api, gateway: GatewayProcess
) -> None:
    """A backup of Jupyter's in-place write is put back when the write had begun."""
    sid = frank.open_session("demo")["id"]
    volume = _volume(gateway) / DIRECTORY
    torn, backup = volume / "torn.sql", volume / ".~torn.sql"
    backup.write_text("select 'intact'\n")
    os.utime(backup, (1_000_000, 1_000_000))
    torn.write_text("sel")  # rewritten in place after the backup, then cut short
    (volume / ".stg_orders.sql.abcd1234.tmp").write_text("half")
    (volume / ".other.sql.0123abcd.ide-tmp").write_text("half")
    kill_pod(gateway, sid)
    fresh = next_session(frank, sid)
    assert torn.read_text() == "select 'intact'\n"
    assert sorted(p.name for p in volume.iterdir() if p.name.startswith(".")) == []
    frank.http.delete(f"/api/sessions/{fresh['id']}")
