"""Session start (cold: first clone; warm: the volume exists; until the session's event
stream, which the browser follows, says ready), the first keystroke (a warm
start until ``fs/read`` has answered over ``/ide`` and a file's Yjs room is synced) against a
bare ``jupyter server`` started the same way (until it answers on its socket), and the fs/read
round trip of a 10 KB file through the gateway against the same call made directly to the
pod's socket.

    uv run python bench/bench_session.py [--rounds 200] [--starts 5]

Warm starts, first keystrokes and bare servers are each measured ``--starts`` times and
their medians printed. It also says whether the pod's modules have bytecode: a pod cannot
write it (its interpreter's files are read-only in the sandbox), so without it every start
compiles the whole of jupyter_server from source.

Needs the PostgreSQL at 127.0.0.1:5432 (or starts an embedded one). Prints ratios measured
in one run, so the machine's speed cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ide_server.secrets import SecretBox  # noqa: E402
from tests.support.client import Api, Rpc  # noqa: E402
from tests.support.gateway import PASSWORD, GatewayProcess  # noqa: E402
from tests.support.pg import temporary_database  # noqa: E402
from tests.support.ydoc import room  # noqa: E402


def open_as_browser(api: Api) -> dict:
    """POST /api/sessions, then follow its event stream until ready, as the browser does."""
    r = api.http.post("/api/sessions", json={"project": "demo"})
    assert r.status_code in (200, 201), r.text
    session = r.json()
    with api.http.stream("GET", f"/api/sessions/{session['id']}/events") as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                session = json.loads(line[len("data: ") :])
                if session["state"] == "ready":
                    return session
                assert session["state"] in ("pending", "starting"), session
    raise SystemExit(f"the session never became ready: {session}")


def timed_start(api: Api) -> tuple[float, dict]:
    started = time.perf_counter()
    session = open_as_browser(api)
    return time.perf_counter() - started, session


async def round_trips(rpc: Rpc, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        await rpc.call("fs/read", {"path": "bench/ten_kb.sql"})
        samples.append(time.perf_counter() - t)
    return samples


async def direct_rpc(gw: GatewayProcess, session_id: str) -> Rpc:
    with psycopg.connect(gw.database_url) as conn:
        (sealed,) = conn.execute(
            "SELECT pod_token FROM sessions WHERE id = %s", (session_id,)
        ).fetchone()
    token = SecretBox.from_environment(gw.data_dir).decrypt(sealed, f"session:{session_id}")
    sock = gw.runtime_dir(session_id) / "pod.sock"
    ws = await websockets.unix_connect(
        str(sock),
        uri=f"ws://pod/sessions/{session_id}/ide",
        additional_headers={"Authorization": f"token {token}"},
        max_size=None,
    )
    return Rpc(ws)


async def first_keystroke(api: Api) -> tuple[list[float], str]:
    """A warm start until the user can type: fs/read answered and a file's room synced.
    Returns the seconds at ready, at the fs/read answer and at the room's sync, and the
    session id."""
    started = time.perf_counter()
    session = open_as_browser(api)
    marks = [time.perf_counter() - started]
    async with await api.rpc(session["id"]) as rpc:
        await rpc.call("fs/read", {"path": "README.md"})
        marks.append(time.perf_counter() - started)
        async with room(api, session["id"], "README.md"):
            marks.append(time.perf_counter() - started)
            return marks, session["id"]


def bare_jupyter_start(tmp: Path) -> float:
    """A plain jupyter server on a Unix socket, from spawn until it answers /api/status."""
    sock = tmp / "bare.sock"
    env = {**os.environ, "JUPYTER_TOKEN": "bench", "JUPYTER_RUNTIME_DIR": str(tmp / "rt")}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.sock={sock}",
            f"--ServerApp.root_dir={tmp}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        transport = httpx.HTTPTransport(uds=str(sock))
        # "localhost": the server refuses other Host names unless told to allow remote access.
        deadline = time.monotonic() + 60
        with httpx.Client(transport=transport, base_url="http://localhost") as client:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise SystemExit("the bare jupyter server did not answer within 60 s")
                try:
                    if client.get(
                        "/api/status", headers={"Authorization": "token bench"}
                    ).is_success:
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
            raise SystemExit(f"the bare jupyter server exited with {proc.returncode}")
    finally:
        proc.terminate()
        proc.wait(10)


def bytecode_missing() -> list[str]:
    """Packages of the pod's start path that have no compiled bytecode next to them."""
    import importlib.util

    missing = []
    for name in ("jupyter_server", "pycrdt", "ide_server.workspace"):
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is None or not (origin.parent / "__pycache__").is_dir():
            missing.append(name)
    return missing


def ms(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:7.2f} ms  p95 "
        f"{sorted(samples)[int(len(samples) * 0.95)] * 1000:7.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()
    missing = bytecode_missing()
    print(f"bytecode missing for: {', '.join(missing)}" if missing else "bytecode: compiled")
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp)) as url:
        gw = GatewayProcess(Path(tmp) / "data", url)
        gw.start()
        try:
            gw.cli("user", "add", "bench", "--password", PASSWORD)
            gw.cli("member", "add", "demo", "bench", "developer")
            api = Api(gw.url)
            api.login("bench", PASSWORD)
            cold, session = timed_start(api)
            api.http.delete(f"/api/sessions/{session['id']}")
            warms, keystrokes, bares = [], [], []
            for _ in range(args.starts):
                warm, session = timed_start(api)
                api.http.delete(f"/api/sessions/{session['id']}")
                warms.append(warm)
                marks, sid = await first_keystroke(api)
                api.http.delete(f"/api/sessions/{sid}")
                keystrokes.append(marks)
                bares.append(bare_jupyter_start(Path(tmp)))
            warm = statistics.median(warms)
            medians = (statistics.median(m) for m in zip(*keystrokes, strict=True))
            ready_at, read_at, keystroke = medians
            bare = statistics.median(bares)
            session = api.open_session("demo")
            sid = session["id"]
            async with await api.rpc(sid) as rpc:
                await rpc.call(
                    "fs/write",
                    {"path": "bench/ten_kb.sql", "content": ("select 1 as x -- padding\n" * 400)},
                )
                await round_trips(rpc, 20)  # warm both paths
                proxied = await round_trips(rpc, args.rounds)
            async with await direct_rpc(gw, sid) as rpc:
                await round_trips(rpc, 20)
                direct = await round_trips(rpc, args.rounds)
            figures = {"cold_start_s": cold, "warm_start_s": warm, "first_keystroke_s": keystroke}
            print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
            print(
                f"session start   cold {cold:6.2f} s   warm {warm:6.2f} s   "
                f"cold/warm {cold / warm:5.2f}   (warm: median of {args.starts})"
            )
            print(
                f"first keystroke {keystroke:6.2f} s   bare jupyter server {bare:6.2f} s   "
                f"ratio {keystroke / bare:5.2f}   warm start/bare {warm / bare:5.2f}"
            )
            print(
                f"  of which       ready {ready_at:6.2f} s   "
                f"fs/read +{read_at - ready_at:5.2f} s   room synced +{keystroke - read_at:5.2f} s"
            )
            print(f"fs/read 10 KB   via gateway {ms(proxied)}")
            print(f"fs/read 10 KB   direct      {ms(direct)}")
            print(f"gateway/direct  {statistics.median(proxied) / statistics.median(direct):5.2f}x")
        finally:
            gw.stop()
            gw.stop_pods()


if __name__ == "__main__":
    asyncio.run(main())
