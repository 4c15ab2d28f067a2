"""A real third-party client: Node's y-websocket provider, through the gateway, with a cookie.

The frontend uses the same provider in the browser; here it runs in Node with the ``ws``
package, so nothing of our own code is on the client side. It must converge with a pycrdt
client editing the same room at the same time, and the pod must write what they agreed on.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pycrdt import Text

from tests.support.client import Api
from tests.support.gateway import GatewayProcess
from tests.support.nodeclient import NodeYClient, install_node_clients
from tests.support.ydoc import eventually, open_file_session, room, room_state, room_text

INITIAL = "select 1 as id\n"


@pytest.fixture(scope="module")
def node_clients() -> Path:
    return install_node_clients()


async def _python_edits(text: Text, rng: random.Random, edits: int) -> None:
    for _ in range(edits):
        length = len(text)
        if length and rng.random() < 0.35:
            start = rng.randrange(length)
            del text[start : min(length, start + rng.randint(1, 6))]
        else:
            chunk = "".join(rng.choices("xyz ,\n", k=rng.randint(1, 5)))
            text.insert(rng.randint(0, length), chunk)
        await asyncio.sleep(rng.uniform(0, 0.015))


@pytest.mark.parametrize("node_user", ["owner", "guest"])
async def test_node_y_websocket_client_converges_with_pycrdt_client(
    node_user: str,
    node_clients: Path,
    alice: Api,
    bob: Api,
    alice_session: dict,
    gateway: GatewayProcess,
) -> None:
    sid = alice_session["id"]
    path = f"models/staging/node_client_{node_user}.sql"
    if node_user == "guest":
        # bob, a developer on the project, as a guest the owner shared the session with.
        share = {"user": "bob", "mode": "edit"}
        shared = alice.http.post(f"/api/sessions/{sid}/shares", json=share)
        if shared.status_code in (404, 405):
            pytest.skip("this gateway has no sharing (POST /api/sessions/{id}/shares)")
        assert shared.status_code == 201, shared.text
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": INITIAL})
    session = open_file_session(alice, sid, path)
    seed = random.SystemRandom().randrange(2**31)

    node = await NodeYClient.join(bob if node_user == "guest" else alice, sid, session)
    try:
        synced = await node.event("synced")
        assert synced["text"] == INITIAL
        async with room(alice, sid, path, session=session) as (doc, _channel):
            text = doc.get("source", type=Text)
            # A marker each way first: an edit from one side reaches the other.
            await node.command(op="insert", index=0, text="-- from node\n")
            await eventually(lambda: room_text(doc).startswith("-- from node\n"))
            text.insert(len(text), "-- from python\n")
            await eventually_async(lambda: node.text(), lambda t: t.endswith("-- from python\n"))

            # Then both edit at random at once.
            await asyncio.gather(
                node.command(op="random", seed=seed, edits=150),
                _python_edits(text, random.Random(seed), 150),
            )
            final = await eventually_async(lambda: node.text(), lambda t: t == room_text(doc))
            assert final != INITIAL, f"seed {seed}"

            target = Path(gateway.data_dir, "volumes", "alice", "demo", path)
            await eventually(
                lambda: target.read_text() == final and room_state(doc).get("dirty") is False,
                timeout=20,
            )
    finally:
        await node.close()
        if node_user == "guest":
            alice.http.delete(f"/api/sessions/{sid}/shares/bob")


async def test_node_client_without_the_login_cookie_is_refused(
    node_clients: Path, alice: Api, alice_session: dict, gateway: GatewayProcess
) -> None:
    sid = alice_session["id"]
    path = "models/staging/node_client_refused.sql"
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": INITIAL})
    session = open_file_session(alice, sid, path)
    node = await NodeYClient.join(alice, sid, session, cookie="ide_session=forged-value")
    try:
        closed = await node.event("closed")
        assert closed["code"] != 1000
        assert await node.text() == "", "a refused client must not receive the document"
    finally:
        await node.close()


async def eventually_async(
    read: Callable[[], Awaitable[str]], accept: Callable[[str], bool], timeout: float = 20
) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met in time; last value {value[:120]!r}")
        await asyncio.sleep(0.1)
