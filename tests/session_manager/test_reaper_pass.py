"""One reaper pass against the real database and fake pods answering over their own sockets:
who is stopped, who is kept, and what one session's trouble does to the others."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ide_server.db import Database
from ide_server.gateway.accounts import Accounts
from ide_server.podenv import PodEnv
from ide_server.secrets import SecretBox, generate_key_spec
from session_manager.manager import SessionManager
from session_manager.reaper import Reaper, ReapPolicy
from session_manager.states import State
from session_manager.store import Limits, SessionRow, SessionStore
from tests.session_manager.activity_pods import ActivityPods, EndpointBackend
from tests.support.pg import migrated_database

LIMITS = Limits(per_user=10, active=10_000, concurrent_starts=10_000)
HOUR = 3600.0


async def no_env() -> PodEnv:
    return PodEnv()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(tmp_path) as database:
        yield database


@pytest.fixture
async def pods(tmp_path: Path) -> AsyncIterator[ActivityPods]:
    folder = tmp_path / "pods"
    folder.mkdir()
    fakes = ActivityPods(folder)
    yield fakes
    await fakes.close()


class World:
    def __init__(self, db: Database, pods: ActivityPods) -> None:
        self.db = db
        self.pods = pods
        self.backend = EndpointBackend()
        box = SecretBox.from_spec(generate_key_spec())
        self.manager = SessionManager(SessionStore(db), self.backend, box, limits=LIMITS)
        self.accounts = Accounts(db)

    async def session(self, name: str, endpoint: str) -> SessionRow:
        """A ready session of user ``name`` on ``endpoint``, idle for two hours by its row."""
        user = await self.accounts.create_user(name, "password-123")
        project = await self.accounts.create_project(f"p-{name}", "file:///nowhere")
        self.backend.endpoints[name] = endpoint
        row, _ = await self.manager.open_session(user.id, name, project.id, project.name, no_env)
        for _ in range(200):
            ready = await self.manager.store.get(row.id)
            if ready is not None and ready.state == State.READY:
                break
            await asyncio.sleep(0.01)
        await self.db.execute(
            "UPDATE sessions SET last_activity = now() - interval '2 hours' WHERE id = %s",
            (row.id,),
        )
        got = await self.manager.store.get(row.id)
        assert got is not None and got.state == State.READY
        return got

    def reaper(self, max_age: float = 0) -> Reaper:
        policy = ReapPolicy(idle_timeout=HOUR, max_age=max_age, cull_interval=3600)
        return Reaper(self.db.url, self.manager, policy)

    async def state(self, row: SessionRow) -> tuple[State, str | None]:
        now = await self.manager.store.get(row.id)
        assert now is not None
        return now.state, now.reason


async def test_idle_pods_stop_and_pods_in_use_keep_running(
    db: Database, pods: ActivityPods
) -> None:
    world = World(db, pods)
    idle = await world.session("idle", await pods.serve("idle", idle_for=2 * HOUR))
    recent = await world.session("recent", await pods.serve("recent", idle_for=60))
    busy = await world.session("busy", await pods.serve("busy", idle_for=5 * HOUR, busy=True))
    reaped = await world.reaper().reap_once()
    assert reaped == [(idle.id, "idle")]
    assert await world.state(idle) == (State.STOPPED, "idle")
    assert world.backend.stopped == [idle.id]
    for kept in (recent, busy):
        row = await world.manager.store.get(kept.id)
        assert row is not None and row.state == State.READY
        # The pod's own clock was recorded: the row no longer says two hours idle.
        assert row.last_activity > kept.last_activity
    assert pods.probes == {"idle": 1, "recent": 1, "busy": 1}


async def test_sessions_past_their_maximum_age_stop_even_in_use(
    db: Database, pods: ActivityPods
) -> None:
    world = World(db, pods)
    old = await world.session("old", await pods.serve("old", idle_for=0, busy=True))
    await db.execute("UPDATE sessions SET ready_at = now() - interval '3 hours'")
    assert await world.reaper(max_age=2 * HOUR).reap_once() == [(old.id, "max_age")]
    assert await world.state(old) == (State.STOPPED, "max_age")


async def test_a_pod_that_does_not_answer_is_stopped_only_if_it_is_gone(
    db: Database, pods: ActivityPods, tmp_path: Path
) -> None:
    world = World(db, pods)
    silent = f"unix:{tmp_path / 'nobody-listens.sock'}"
    alive = await world.session("alive", silent)
    dead = await world.session("dead", silent)
    world.backend.running.pop(dead.id)  # its process exited
    assert await world.reaper().reap_once() == [(dead.id, "pod exited")]
    assert (await world.state(dead))[0] == State.STOPPED
    # Alive but not answering (busy, slow): judged at the next pass, not stopped blind.
    assert (await world.state(alive))[0] == State.READY


async def test_a_stop_that_fails_marks_that_session_and_the_others_still_stop(
    db: Database, pods: ActivityPods
) -> None:
    world = World(db, pods)
    rows = [await world.session(n, await pods.serve(n, idle_for=2 * HOUR)) for n in "abcd"]
    world.backend.refuse_stop.add(rows[1].id)
    reaped = await world.reaper().reap_once()
    assert sorted(reaped) == sorted((r.id, "idle") for r in rows if r is not rows[1])
    state, reason = await world.state(rows[1])
    assert state == State.FAILED and reason == "stop failed: the node does not answer"
    for row in rows[:1] + rows[2:]:
        assert await world.state(row) == (State.STOPPED, "idle")


async def test_a_session_stopped_meanwhile_is_not_stopped_again(
    db: Database, pods: ActivityPods
) -> None:
    world = World(db, pods)
    a = await world.session("a", await pods.serve("a", idle_for=2 * HOUR))
    b = await world.session("b", await pods.serve("b", idle_for=2 * HOUR))
    # The user stopped ``a`` between the reaper's listing and its stop.
    await world.manager.stop_session(a.id, reason="stopped by a")
    world.backend.stopped.clear()
    assert await world.manager.stop_sessions([(a, "idle"), (b, "idle")]) == [(b.id, "idle")]
    assert world.backend.stopped == [b.id]
    assert await world.state(a) == (State.STOPPED, "stopped by a")
