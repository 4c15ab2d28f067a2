"""The manager and reaper against the real database, with backends modelling one behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ide_server.db import Database
from ide_server.gateway.accounts import Accounts
from ide_server.podenv import PodEnv
from ide_server.secrets import SecretBox, generate_key_spec
from session_manager.backends.base import Backend
from session_manager.manager import SessionManager
from session_manager.reaper import Reaper, ReapPolicy
from session_manager.states import State
from session_manager.store import Limits, SessionStore
from tests.session_manager.fakes import BrokenBackend, InstantBackend, NeverReadyBackend
from tests.support.pg import migrated_database


async def no_env() -> PodEnv:
    return PodEnv()


LIMITS = Limits(per_user=100, active=10_000, concurrent_starts=10_000)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(tmp_path) as database:
        yield database


async def _manager(db: Database, backend: Backend, **kwargs: float) -> SessionManager:
    return SessionManager(
        SessionStore(db), backend, SecretBox.from_spec(generate_key_spec()), limits=LIMITS, **kwargs
    )


async def _user_and_project(db: Database, name: str = "u") -> tuple[int, int]:
    accounts = Accounts(db)
    user = await accounts.create_user(name, "password-123")
    project = await accounts.create_project(f"p-{name}", "file:///nowhere")
    return user.id, project.id


async def _wait(manager: SessionManager, sid: str, state: State) -> None:
    for _ in range(200):
        row = await manager.store.get(sid)
        if row and row.state == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{sid} never {state}")


async def test_a_start_past_the_timeout_fails_and_cleans_up(db: Database) -> None:
    backend = NeverReadyBackend()
    manager = await _manager(db, backend, start_timeout=0.5)
    uid, pid = await _user_and_project(db)
    row, _ = await manager.open_session(uid, "u", pid, "p-u", no_env)
    await _wait(manager, row.id, State.FAILED)
    failed = await manager.store.get(row.id)
    assert failed is not None and "did not become ready within 0.5 s" in (failed.reason or "")
    assert backend.running == {}  # its pod was removed


async def test_a_backend_error_becomes_the_reason(db: Database) -> None:
    manager = await _manager(db, BrokenBackend())
    uid, pid = await _user_and_project(db)
    row, _ = await manager.open_session(uid, "u", pid, "p-u", no_env)
    await _wait(manager, row.id, State.FAILED)
    failed = await manager.store.get(row.id)
    assert failed is not None and failed.reason == "the cluster refused the pod: quota exceeded"


async def test_concurrent_opens_converge_and_the_pod_token_is_sealed(db: Database) -> None:
    backend = InstantBackend()
    manager = await _manager(db, backend)
    uid, pid = await _user_and_project(db)
    results = await asyncio.gather(
        *(manager.open_session(uid, "u", pid, "p-u", no_env) for _ in range(20))
    )
    assert len({row.id for row, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    await _wait(manager, results[0][0].id, State.READY)
    assert backend.starts == 1
    row = await manager.store.get(results[0][0].id)
    assert row is not None and row.pod_token and len(manager.pod_token(row)) >= 40
    assert manager.pod_token(row) not in row.pod_token


async def test_reconcile_marks_dead_rows_and_removes_orphans(db: Database) -> None:
    backend = InstantBackend()
    manager = await _manager(db, backend)
    uid, pid = await _user_and_project(db)
    row, _ = await manager.open_session(uid, "u", pid, "p-u", no_env)
    await _wait(manager, row.id, State.READY)
    orphan_id = "f" * 32
    from session_manager.backends.base import PodSpec

    backend.running[orphan_id] = PodSpec(orphan_id, "x", "y", "/", "t")
    await manager.reconcile()
    assert orphan_id not in backend.running and row.id in backend.running  # adopted
    backend.running.pop(row.id)  # the pod died
    await manager.reconcile()
    dead = await manager.store.get(row.id)
    assert dead is not None and dead.state == State.STOPPED and dead.reason == "pod exited"


async def test_exactly_one_reaper_leads_and_another_takes_over(db: Database) -> None:
    manager = await _manager(db, InstantBackend())
    policy = ReapPolicy(idle_timeout=60, max_age=0, cull_interval=3600)
    first = Reaper(db.url, manager, policy)
    second = Reaper(db.url, manager, policy)
    assert await first._lead() is True
    assert await second._lead() is False
    assert await first._lead() is True  # keeps it
    await first.stop()  # the leader dies: its connection, and so its lock, goes away
    assert await second._lead() is True
    await second.stop()


async def test_stopping_a_session_while_it_starts_ends_stopped_not_failed(db: Database) -> None:
    backend = NeverReadyBackend()
    manager = await _manager(db, backend, start_timeout=60)
    uid, pid = await _user_and_project(db)
    row, _ = await manager.open_session(uid, "u", pid, "p-u", no_env)
    await _wait(manager, row.id, State.STARTING)
    final = await manager.stop_session(row.id, reason="stopped by u")
    assert final is not None and final.state == State.STOPPED
    assert final.reason == "stopped by u"
    assert backend.running == {}


async def test_reconcile_leaves_pods_that_are_starting_elsewhere(db: Database) -> None:
    backend = InstantBackend()
    manager = await _manager(db, backend)
    uid, pid = await _user_and_project(db)
    row, _ = await manager.store.create_or_get_live(uid, pid, backend.name, LIMITS)
    await manager.store.transition(row.id, State.STARTING)
    from session_manager.backends.base import PodSpec

    # Another replica is starting this pod: its row is fresh, the pod exists already.
    backend.running[row.id] = PodSpec(row.id, "u", "p-u", "/", "t")
    await manager.reconcile()
    assert row.id in backend.running
    still = await manager.store.get(row.id)
    assert still is not None and still.state == State.STARTING


async def test_reopening_a_live_session_never_builds_the_pod_settings(db: Database) -> None:
    manager = await _manager(db, InstantBackend())
    uid, pid = await _user_and_project(db)
    row, _ = await manager.open_session(uid, "u", pid, "p-u", no_env)

    async def unreadable() -> PodEnv:
        raise RuntimeError("the master key changed")

    again, created = await manager.open_session(uid, "u", pid, "p-u", unreadable)
    assert again.id == row.id and created is False


async def test_settings_that_cannot_be_built_fail_the_new_session(db: Database) -> None:
    manager = await _manager(db, InstantBackend())
    uid, pid = await _user_and_project(db)

    async def unreadable() -> PodEnv:
        raise RuntimeError("the master key changed")

    with pytest.raises(RuntimeError):
        await manager.open_session(uid, "u", pid, "p-u", unreadable)
    rows = await manager.store.list()
    assert [r.state for r in rows] == [State.FAILED]
    assert "master key changed" in (rows[0].reason or "")
