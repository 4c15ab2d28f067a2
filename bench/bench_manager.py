"""The session manager's own cost, measured against baselines in the same run.

    uv run python bench/bench_manager.py

1. Overhead: request-to-ready through the manager minus the backend's own start time
   (local backend: a real pod process; the baseline is LocalBackend.start called alone).
2. One reaper pass over 1,000 ready sessions whose pods all report old activity (a fake
   backend and a tiny HTTP server model the pods), against a plain SELECT of those rows.
3. 100 concurrent opens from 100 users with a backend that starts instantly: time until
   all are ready, and that no duplicate or orphan remains.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

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


async def bench_reaper(db: Database) -> None:
    import uvicorn

    app = Starlette(
        routes=[
            Route(
                "/{pod}/sessions/{sid}/ide/activity",
                lambda r: JSONResponse(
                    {
                        "last_activity": time.time() - 7200,
                        "busy": False,
                        "clients": 0,
                        "now": time.time(),
                    }
                ),
            )
        ]
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    class IdleBackend(InstantBackend):
        """Each fake pod has an endpoint of its own (a path prefix on one small server), so
        the manager holds one client and connection per pod, as it does in production."""

        async def start(self, spec, progress):
            self.running[spec.session_id] = spec
            return f"http://127.0.0.1:{port}/{spec.session_id}"

    backend = IdleBackend()
    manager = SessionManager(SessionStore(db), backend, BOX, limits=LIMITS)
    accounts = Accounts(db)
    project = await accounts.create_project("reap", "file:///nowhere")
    ids = []
    for i in range(1000):
        user = await db.fetchone(
            "INSERT INTO users (username) VALUES (%s) RETURNING id", (f"r{i}",)
        )
        row, _ = await manager.open_session(user["id"], f"r{i}", project.id, "reap", no_env)
        ids.append(row.id)
    await wait_ready(manager.store, ids)
    await db.execute("UPDATE sessions SET last_activity = now() - interval '2 hours'")
    t = time.perf_counter()
    rows = [r for r in await manager.store.list(states=(State.READY,)) if r.project == "reap"]
    select = time.perf_counter() - t
    for row in await manager.store.list(states=(State.READY,)):
        if row.project != "reap":
            await manager.stop_session(row.id)
    reaper = Reaper(db.url, manager, ReapPolicy(idle_timeout=3600, max_age=0, cull_interval=60))
    t = time.perf_counter()
    reaped = await reaper.reap_once()
    elapsed = time.perf_counter() - t
    print(
        f"reaper pass, {len(rows)} idle sessions  {elapsed:6.2f} s, reaped {len(reaped)}; "
        f"plain SELECT of the rows {select * 1000:6.1f} ms; pass/select {elapsed / select:6.0f}x"
    )
    if len(reaped) < 1000:
        print(f"  ({1000 - len(reaped)} pods answered too slowly and wait for the next pass)")
    server.should_exit = True
    await serving


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
            await bench_reaper(db)
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(main())
