"""The IDE protocol through the gateway: round trips, pushes, bad input, size limit."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.client import Api, RpcFailure
from tests.support.gateway import GatewayProcess


async def test_fs_round_trip_through_the_gateway(
    alice: Api, alice_session: dict, gateway: GatewayProcess
) -> None:
    sid = alice_session["id"]
    volume = gateway.data_dir / "volumes" / "alice" / "demo"
    async with await alice.rpc(sid) as rpc:
        written = await rpc.call(
            "fs/write", {"path": "models/scratch/a.sql", "content": "select 1 as id\n"}
        )
        assert written["path"] == "models/scratch/a.sql"
        assert (volume / "models/scratch/a.sql").read_text() == "select 1 as id\n"
        read = await rpc.call("fs/read", {"path": "models/scratch/a.sql"})
        assert read == {
            "path": "models/scratch/a.sql",
            "content": "select 1 as id\n",
            "mtime": written["mtime"],
        }
        with pytest.raises(RpcFailure) as stale:
            await rpc.call(
                "fs/write",
                {
                    "path": "models/scratch/a.sql",
                    "content": "x",
                    "expected_mtime": written["mtime"] - 100,
                },
            )
        assert stale.value.code == -32006
        await rpc.call(
            "fs/rename", {"path": "models/scratch/a.sql", "new_path": "models/scratch/b.sql"}
        )
        listing = await rpc.call("fs/list", {"path": "models/scratch"})
        assert [(e["name"], e["type"]) for e in listing["entries"]] == [("b.sql", "file")]
        await rpc.call("fs/mkdir", {"path": "models/scratch/sub"})
        with pytest.raises(RpcFailure) as exists:
            await rpc.call("fs/mkdir", {"path": "models/scratch/sub"})
        assert exists.value.code == -32004
        await rpc.call("fs/delete", {"path": "models/scratch"})
        assert not (volume / "models/scratch").exists()
        with pytest.raises(RpcFailure) as missing:
            await rpc.call("fs/read", {"path": "models/scratch/b.sql"})
        assert missing.value.code == -32003
        root = await rpc.call("fs/list", {})
        names = [e["name"] for e in root["entries"]]
        assert "models" in names and ".git" not in names and ".ide" not in names


async def test_changes_are_pushed_to_the_other_clients(alice: Api, alice_session: dict) -> None:
    sid = alice_session["id"]
    async with await alice.rpc(sid) as writer, await alice.rpc(sid) as watcher:
        await writer.call("fs/write", {"path": "pushed.sql", "content": "select 2"})
        change = await watcher.notification("fs/changed")
        assert change == {"path": "pushed.sql", "kind": "write"}
        await writer.call("fs/delete", {"path": "pushed.sql"})
        assert (await watcher.notification("fs/changed"))["kind"] == "delete"
        assert writer.notifications.empty()  # the author is not told of its own change


async def test_bad_messages_get_errors_and_the_socket_stays_usable(
    alice: Api, alice_session: dict
) -> None:
    async with await alice.rpc(alice_session["id"]) as rpc:
        cases = [
            ("{not json", -32700),
            (json.dumps([1, 2]), -32600),
            (json.dumps({"jsonrpc": "1.0", "id": 1, "method": "fs/list"}), -32600),
            (json.dumps({"jsonrpc": "2.0", "id": 1, "method": 42}), -32600),
            (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "fs/nope"}), -32601),
            (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "fs/read"}), -32602),
            (
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": "fs/read", "params": {"path": 7}}),
                -32602,
            ),
            (
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "fs/read",
                        "params": {"path": "a", "extra": 1},
                    }
                ),
                -32602,
            ),
            (
                json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "method": "fs/read", "params": "dbt_project.yml"}
                ),
                -32602,
            ),
        ]
        for raw, code in cases:
            await rpc.ws.send(raw)
            reply = await asyncio.wait_for(rpc.notifications.get(), 10)
            assert reply["error"]["code"] == code, raw
        read = await rpc.call("fs/read", {"path": "dbt_project.yml"})
        assert "name:" in read["content"]


async def test_oversized_message_closes_with_1009_and_harms_nothing(
    alice: Api, alice_session: dict, gateway: GatewayProcess
) -> None:
    sid = alice_session["id"]
    volume = gateway.data_dir / "volumes" / "alice" / "demo"
    before = (volume / "dbt_project.yml").read_bytes()
    rpc = await alice.rpc(sid)
    huge = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "fs/write",
            "params": {"path": "dbt_project.yml", "content": "x" * (9 * 1024 * 1024)},
        }
    )
    await rpc.ws.send(huge)
    await asyncio.wait_for(rpc.closed(), 15)
    assert rpc.ws.close_code == 1009
    await rpc.close()
    assert (volume / "dbt_project.yml").read_bytes() == before
    async with await alice.rpc(sid) as again:
        assert (await again.call("session/heartbeat")) == {"ok": True}


async def test_dropped_connection_mid_call_leaves_the_pod_working(
    alice: Api, alice_session: dict
) -> None:
    sid = alice_session["id"]
    rpc = await alice.rpc(sid)
    await rpc.ws.send(
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "fs/list", "params": {"path": ""}})
    )
    rpc.ws.transport.abort()
    async with await alice.rpc(sid) as again:
        assert (await again.call("fs/list", {}))["entries"]


def test_session_lifecycle_and_events(bob: Api, gateway: GatewayProcess) -> None:
    created = bob.http.post("/api/sessions", json={"project": "demo"})
    assert created.status_code in (200, 201)
    session = created.json()
    assert session["state"] in ("pending", "starting", "ready")
    assert session["url"] == f"/sessions/{session['id']}/"
    states = []
    with bob.http.stream("GET", f"/api/sessions/{session['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data:"):
                states.append(json.loads(line[5:])["state"])
    assert states[-1] == "ready"
    assert all(s in ("pending", "starting", "ready") for s in states)
    again = bob.http.post("/api/sessions", json={"project": "demo"})
    assert again.status_code == 200 and again.json()["id"] == session["id"]
    assert [s["id"] for s in bob.http.get("/api/sessions").json()] == [session["id"]]
    stopped = bob.http.delete(f"/api/sessions/{session['id']}")
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert bob.http.get("/api/sessions").json() == []
    put = bob.http.put(
        f"/sessions/{session['id']}/api/collaboration/session/README.md",
        json={"format": "text", "type": "file"},
    )
    assert put.status_code == 409


async def test_deeply_nested_json_gets_an_error_not_a_closed_socket(
    alice: Api, alice_session: dict
) -> None:
    async with await alice.rpc(alice_session["id"]) as rpc:
        await rpc.ws.send("[" * 100_000)
        reply = await asyncio.wait_for(rpc.notifications.get(), 10)
        assert reply["error"]["code"] == -32700
        nested = '{"jsonrpc": "2.0", "id": 5, "method": "fs/list", "params": ' + "[" * 50_000 + "}"
        await rpc.ws.send(nested)
        reply = await asyncio.wait_for(rpc.notifications.get(), 10)
        assert reply["error"]["code"] == -32700
        assert (await rpc.call("session/heartbeat")) == {"ok": True}


async def test_a_file_too_large_for_the_socket_is_refused_clearly(
    alice: Api, alice_session: dict, gateway: GatewayProcess
) -> None:
    big = gateway.data_dir / "volumes" / "alice" / "demo" / "seeds" / "big.csv"
    big.write_bytes(b"id,value\n" + b"1,abcdefghij\n" * 500_000)  # 6 MB
    try:
        async with await alice.rpc(alice_session["id"]) as rpc:
            with pytest.raises(RpcFailure) as failure:
                await rpc.call("fs/read", {"path": "seeds/big.csv"})
            assert failure.value.code == -32008 and "larger than" in str(failure.value)
            assert (await rpc.call("fs/read", {"path": "dbt_project.yml"}))["content"]
    finally:
        big.unlink()


def test_an_odd_cookie_beside_the_login_does_not_log_the_user_out(
    alice: Api, gateway: GatewayProcess
) -> None:
    import httpx

    header = f'prefs={{"theme":"dark"}}; ide_session={alice.cookie}; other=1'
    response = httpx.get(f"{gateway.url}/api/me", headers={"Cookie": header})
    assert response.status_code == 200 and response.json()["username"] == "alice"
