"""The session manager's own cost, measured against baselines in the same run.

    uv run python bench/bench_manager.py

1. Overhead: request-to-ready through the manager minus the backend's own start time
   (local backend: a real pod process; the baseline is LocalBackend.start called alone).
2. One reaper pass over 1,000 ready sessions whose pods all report old activity, by a
   manager that just started (its first pass after a restart), against a plain SELECT of
   those rows, with the event loop's worst lag meanwhile. A fake backend hands out the
   endpoints of bench/fake_pods.py, a process of its own serving each pod on its own
   socket: once as Unix sockets (the local backend), once as TCP ports (Kubernetes).
3. 100 concurrent opens from 100 users with a backend that starts instantly: time until
   all are ready, and that no duplicate or orphan remains.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ide_server.config import load_config  # noqa: E402
from ide_server.db import Database  # noqa: E402
from ide_server.demo.remote import create_demo_remote  # noqa: E402
from ide_server.gateway.accounts import Accounts  # noqa: E402
from ide_server.gateway.migrations import MIGRATIONS  # noqa: E402
from ide_server.podenv import PodEnv  # noqa: E402
from ide_server.secrets import SecretBox, generate_key_spec  # noqa: E402
from session_manager.backends.base import PodSpec  # noqa: E402
from session_manager.backends.local import Confinement, LocalBackend  # noqa: E402
from session_manager.manager import SessionManager  # noqa: E402
from session_manager.reaper import Reaper, ReapPolicy  # noqa: E402
from session_manager.states import State  # noqa: E402
from session_manager.store import Limits, SessionStore  # noqa: E402
from tests.session_manager.fakes import InstantBackend  # noqa: E402
from tests.support.pg import temporary_database  # noqa: E402

LIMITS = Limits(per_user=10, active=100_000, concurrent_starts=100_000)


async def no_env() -> PodEnv:
    return PodEnv()


async def as_env(env: PodEnv) -> PodEnv:
    return env


BOX = SecretBox.from_spec(generate_key_spec())


def manager_for(db: Database, backend) -> SessionManager:
    return SessionManager(SessionStore(db), backend, BOX, limits=LIMITS)


async def wait_ready(store: SessionStore, ids: list[str]) -> None:
    while True:
        rows = await store.list(states=(State.READY, State.FAILED))
        done = {r.id for r in rows}
        if all(i in done for i in ids):
            return
        await asyncio.sleep(0.005)


class TimedLocalBackend(LocalBackend):
    """The local backend, timing its own start: what is left is the manager's share."""

    def __init__(self, data_dir: Path) -> None:
        config = load_config({"data_dir": str(data_dir)})
        super().__init__(config.data_path, Confinement.from_config(config))
        self.durations: list[float] = []

    async def start(self, spec: PodSpec, progress) -> str:
        t = time.perf_counter()
        try:
            return await super().start(spec, progress)
        finally:
            self.durations.append(time.perf_counter() - t)


async def bench_overhead(db: Database, data: Path, rounds: int = 5) -> None:
    accounts = Accounts(db)
    remote = create_demo_remote(data)
    user = await accounts.create_user("overhead", "password-123")
    project = await accounts.create_project("demo", remote.as_uri())
    env = PodEnv(git_url=remote.as_uri(), default_branch="main")
    backend = TimedLocalBackend(data)
    manager = manager_for(db, backend)
    totals = []
    for _ in range(rounds):
        t = time.perf_counter()
        row, _ = await manager.open_session(
            user.id, "overhead", project.id, "demo", lambda: as_env(env)
        )
        await wait_ready(manager.store, [row.id])
        totals.append(time.perf_counter() - t)
        await manager.stop_session(row.id)
    overheads = sorted(total - own for total, own in zip(totals, backend.durations, strict=True))
    median_total = sorted(totals)[rounds // 2]
    median_overhead = overheads[rounds // 2]
    print(
        f"start through the manager    {median_total * 1000:8.1f} ms (median of {rounds}), of "
        f"which the manager's own share {median_overhead * 1000:6.1f} ms "
        f"({median_overhead / median_total * 100:4.1f} %)"
    )


class LoopLag:
    """The event loop's worst lag while a block runs: how late a 5 ms sleep wakes up."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - t - 0.005)

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._sample())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class FakePods:
    """``bench/fake_pods.py`` in a process of its own: one endpoint per pod."""

    def __init__(self, kind: str, count: int, folder: Path) -> None:
        script = Path(__file__).with_name("fake_pods.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), kind, str(count), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.endpoints = []
        while (line := self.proc.stdout.readline().strip()) != "ready":
            if not line:
                raise RuntimeError("the fake pods did not start")
            self.endpoints.append(line)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


async def bench_reaper(db: Database, kind: str, folder: Path, count: int = 1000) -> None:
    """One pass over ``count`` idle sessions, by a manager that just started (as after a
    gateway restart): every pod client is built during the pass."""
    pods = FakePods(kind, count, folder)
    endpoints = iter(pods.endpoints)

    class IdleBackend(InstantBackend):
        async def start(self, spec, progress):
            self.running[spec.session_id] = spec
            return next(endpoints)

    backend = IdleBackend()
    opener = manager_for(db, backend)
    accounts = Accounts(db)
    project = await accounts.create_project(f"reap-{kind}", "file:///nowhere")
    ids = []
    for i in range(count):
        name = f"r{kind}{i}"
        user = await db.fetchone("INSERT INTO users (username) VALUES (%s) RETURNING id", (name,))
        row, _ = await opener.open_session(user["id"], name, project.id, project.name, no_env)
        ids.append(row.id)
    await wait_ready(opener.store, ids)
    await db.execute("UPDATE sessions SET last_activity = now() - interval '2 hours'")
    t = time.perf_counter()
    rows = await opener.store.list(states=(State.READY,))
    select = time.perf_counter() - t
    assert len(rows) == count, "only this benchmark's sessions are ready"
    manager = manager_for(db, backend)  # a gateway that just (re)started: no pod clients yet
    reaper = Reaper(db.url, manager, ReapPolicy(idle_timeout=3600, max_age=0, cull_interval=60))
    async with LoopLag() as lag:
        t = time.perf_counter()
        reaped = await reaper.reap_once()
        elapsed = time.perf_counter() - t
    shape = "a Unix socket each (local)" if kind == "unix" else "a port each (kubernetes)"
    print(
        f"reaper pass, {count} idle sessions, {shape}: {elapsed:5.2f} s, reaped "
        f"{len(reaped)}, worst loop lag {lag.worst * 1000:5.1f} ms; plain SELECT of the rows "
        f"{select * 1000:5.1f} ms; pass/select {elapsed / select:4.0f}x (goal: pass < 1 s)"
    )
    if len(reaped) < count:
        print(f"  ({count - len(reaped)} pods answered too slowly and wait for the next pass)")
    await manager.close()
    await opener.close()
    pods.stop()


async def bench_concurrent(db: Database) -> None:
    backend = InstantBackend()
    manager = manager_for(db, backend)
    accounts = Accounts(db)
    project = await accounts.create_project("burst", "file:///nowhere")
    users = []
    for i in range(100):
        row = await db.fetchone("INSERT INTO users (username) VALUES (%s) RETURNING id", (f"c{i}",))
        users.append(row["id"])
    t = time.perf_counter()
    opened = await asyncio.gather(
        *(
            manager.open_session(u, f"c{i}", project.id, "burst", no_env)
            for i, u in enumerate(users)
        )
    )
    await wait_ready(manager.store, [r.id for r, _ in opened])
    elapsed = time.perf_counter() - t
    live = await manager.store.list(states=(State.READY,))
    burst = [r for r in live if r.project == "burst"]
    print(
        f"100 concurrent opens          {elapsed * 1000:8.1f} ms until all ready; "
        f"{len(burst)} sessions, {backend.starts} pod starts, "
        f"{len(backend.running) - len(burst)} orphans"
    )
    assert len(burst) == 100 == backend.starts


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp)) as url:
        db = Database(url, migrations=MIGRATIONS, max_size=20)
        await db.open()
        try:
            await bench_overhead(db, Path(tmp) / "data")
            await bench_concurrent(db)
            leftovers = manager_for(db, InstantBackend())
            for row in await leftovers.store.list(states=(State.READY,)):
                await leftovers.stop_session(row.id)  # the reaper passes see only their own
            for kind in ("unix", "tcp"):
                await bench_reaper(db, kind, Path(tmp))
        finally:
            await db.close()


if __name__ == "__main__":
    # uvloop, as the gateway runs under uvicorn.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
