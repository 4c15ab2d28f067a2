"""Session rows move only along the state machine, one conditional UPDATE each."""

from __future__ import annotations

import asyncio

import pytest

from ide_server.db import Database
from session_manager.states import TRANSITIONS, IllegalTransition, State
from session_manager.store import SessionStore
from tests.session_manager.test_manager import LIMITS, _user_and_project, db  # noqa: F401


async def _row_in(store: SessionStore, database: Database, state: State, name: str) -> str:
    uid, pid = await _user_and_project(database, name)
    row, _ = await store.create_or_get_live(uid, pid, "fake", LIMITS)
    await database.execute("UPDATE sessions SET state = %s WHERE id = %s", (state.value, row.id))
    return row.id


async def test_every_move_the_machine_forbids_is_refused_by_the_database(db: Database) -> None:  # noqa: F811
    store = SessionStore(db)
    for i, current in enumerate(State):
        for target in State:
            sid = await _row_in(store, db, current, f"u{i}-{target.value}")
            moved = await store.transition(sid, target)
            row = await store.get(sid)
            assert row is not None
            if target in TRANSITIONS[current]:
                assert moved is not None and row.state == target
            else:
                assert moved is None and row.state == current, (current, target)


async def test_naming_a_source_that_can_never_reach_the_target_is_a_bug(db: Database) -> None:  # noqa: F811
    store = SessionStore(db)
    sid = await _row_in(store, db, State.STOPPED, "bug")
    with pytest.raises(IllegalTransition, match="stopped to ready"):
        await store.transition(sid, State.READY, only_from=(State.STOPPED,))
    row = await store.get(sid)
    assert row is not None and row.state == State.STOPPED


async def test_of_two_concurrent_moves_one_wins(db: Database) -> None:  # noqa: F811
    store = SessionStore(db)
    sid = await _row_in(store, db, State.STARTING, "race")
    results = await asyncio.gather(
        store.transition(sid, State.READY), store.transition(sid, State.FAILED, reason="x")
    )
    assert sum(r is not None for r in results) == 1
