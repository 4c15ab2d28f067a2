"""Seeded randomized convergence: many editors type and delete in one room at once.

Each client is a pycrdt document joined to the same file's room of one real pod through the
gateway, as a browser tab is. Every client applies random inserts and deletes at random
positions of its own copy, with random pauses so that its edits interleave with the
updates arriving from the others. At the end every copy must hold the same text, a client
joining afterwards must get that text, and the file the pod writes after its save delay
must be that text too.

With ``guests``, every other client is bob, a developer the owner shared the session with in
``edit`` mode: the owner's room takes a guest's edits exactly as the owner's own.

The edits each client makes come from ``random.Random(f"{seed}:{client}")``, printed on
failure; ``IDE_TEST_SEED=<seed>`` replays them (the network's interleaving still varies).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import string
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pycrdt import Doc, Text

from tests.support.client import Api
from tests.support.gateway import GatewayProcess
from tests.support.ydoc import eventually, open_file_session, room, room_state, room_text

# Fewer edits per client as clients are added keeps each case within a few seconds.
EDITS_TOTAL = 360
EDITS_MIN = 12
INITIAL = "select\n  id,\n  name\nfrom customers\n"
ALPHABET = string.ascii_letters + string.digits + " \n,()"


def _seed() -> int:
    fixed = os.environ.get("IDE_TEST_SEED")
    return int(fixed) if fixed else random.SystemRandom().randrange(2**32)


async def _edit_randomly(doc: Doc, rng: random.Random, edits: int) -> None:
    text = doc.get("source", type=Text)
    for _ in range(edits):
        length = len(text)
        if length and rng.random() < 0.35:
            start = rng.randrange(length)
            del text[start : min(length, start + rng.randint(1, 6))]
        else:
            chunk = "".join(rng.choices(ALPHABET, k=rng.randint(1, 8)))
            text.insert(rng.randint(0, length), chunk)
        # Let the others' updates in between our edits, at varying moments.
        await asyncio.sleep(rng.uniform(0, 0.015))


def _all_equal(docs: list[Doc]) -> bool:
    first = room_text(docs[0])
    return all(room_text(doc) == first for doc in docs[1:])


def _describe(docs: list[Doc]) -> str:
    texts = [room_text(doc) for doc in docs]
    distinct = sorted(set(texts), key=texts.index)
    return f"{len(distinct)} distinct texts among {len(docs)} clients: " + "; ".join(
        repr(t[:80]) for t in distinct[:3]
    )


@contextlib.contextmanager
def _shared_with(owner: Api, sid: str, guest: str) -> Iterator[None]:
    response = owner.http.post(f"/api/sessions/{sid}/shares", json={"user": guest, "mode": "edit"})
    if response.status_code in (404, 405):
        pytest.skip("this gateway has no sharing (POST /api/sessions/{id}/shares)")
    assert response.status_code == 201, response.text
    assert response.json()["effective_mode"] == "edit"
    try:
        yield
    finally:
        owner.http.delete(f"/api/sessions/{sid}/shares/{guest}")


@pytest.mark.parametrize("clients", [2, 5, 12, 20, 30])
@pytest.mark.parametrize("participants", ["owner", "guests"])
async def test_concurrent_random_edits_converge_in_the_room_and_on_disk(
    clients: int,
    participants: str,
    alice: Api,
    bob: Api,
    alice_session: dict,
    gateway: GatewayProcess,
    request: pytest.FixtureRequest,
) -> None:
    if participants == "guests" and clients == 30:
        pytest.skip("the owner's 30-client case covers the size; guests run up to 20")
    seed = _seed()
    replay = f"seed {seed} (replay: IDE_TEST_SEED={seed} pytest '{request.node.nodeid}')"
    print(f"convergence with {clients} clients, {replay}")
    sid = alice_session["id"]
    path = f"models/staging/converge_{participants}_{clients}.sql"
    async with await alice.rpc(sid) as rpc:
        await rpc.call("fs/write", {"path": path, "content": INITIAL})
    session = open_file_session(alice, sid, path)
    edits = max(EDITS_MIN, EDITS_TOTAL // clients)

    async with contextlib.AsyncExitStack() as stack:
        if participants == "guests":
            stack.enter_context(_shared_with(alice, sid, "bob"))
        docs: list[Doc] = []
        for i in range(clients):
            client = bob if participants == "guests" and i % 2 else alice
            joined = room(client, sid, path, session=session)
            doc, _channel = await stack.enter_async_context(joined)
            docs.append(doc)
        assert all(room_text(doc) == INITIAL for doc in docs), replay

        started = time.monotonic()
        await asyncio.gather(
            *(
                _edit_randomly(doc, random.Random(f"{seed}:{i}"), edits)
                for i, doc in enumerate(docs)
            )
        )
        try:
            await eventually(lambda: _all_equal(docs), timeout=30)
        except AssertionError:
            pytest.fail(f"the clients did not converge: {_describe(docs)}; {replay}")
        converged = time.monotonic() - started
        final = room_text(docs[0])
        assert final != INITIAL, f"no edit reached the room; {replay}"

        # The pod writes the room after its save delay and then clears the dirty flag.
        target = Path(gateway.data_dir, "volumes", "alice", "demo", path)
        try:
            await eventually(
                lambda: (
                    target.read_text() == final
                    and all(room_state(doc).get("dirty") is False for doc in docs)
                ),
                timeout=20,
            )
        except AssertionError:
            on_disk = target.read_text()
            pytest.fail(f"the disk has {on_disk[:80]!r}, the room {final[:80]!r}; {replay}")
        assert all(room_text(doc) == final for doc in docs), f"edits after the save; {replay}"

    # A client joining now gets what the others ended with.
    async with room(alice, sid, path) as (late, _channel):
        assert room_text(late) == final, replay
    print(f"{clients} clients × {edits} edits converged in {converged:.2f} s")
