"""Pairing: edit latency from client A to client B through the gateway against the same two
clients connected straight to the pod, with 1, 10 and 50 pairs at once; then the gateway's
memory and CPU while it holds 1,000 idle room sockets.

    flock /tmp/heavy.lock uv run python bench/bench_pairing.py [--edits 40] [--idle 1000]

Each pair is two pycrdt clients in one file's room (one room per pair, all in one session
pod: one pod per pair would measure 50 pod starts on this machine, not the relay). A types
a marker, B's document observer stamps when it arrives; every pair types at the same time.
"Direct" clients speak to the pod's Unix socket with the pod's token, as the gateway does.
Ratios come from one run, so the machine's speed cancels out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import websockets
from pycrdt import Doc, Provider, Text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ide_server.secrets import SecretBox  # noqa: E402
from tests.support.client import Api  # noqa: E402
from tests.support.gateway import PASSWORD, GatewayProcess  # noqa: E402
from tests.support.pg import temporary_database  # noqa: E402
from tests.support.ydoc import RoomChannel, open_file_session  # noqa: E402

PAIRS = (1, 10, 50)


def pod_token(gw: GatewayProcess, session_id: str) -> str:
    with psycopg.connect(gw.database_url) as conn:
        row = conn.execute("SELECT pod_token FROM sessions WHERE id = %s", (session_id,)).fetchone()
    assert row is not None
    return SecretBox.from_environment(gw.data_dir).decrypt(row[0], f"session:{session_id}")


class Endpoints:
    """Opens a room's socket either through the gateway or straight to the pod."""

    def __init__(self, gw: GatewayProcess, api: Api, sid: str) -> None:
        self.api, self.sid = api, sid
        self.sock = str(gw.runtime_dir(sid) / "pod.sock")
        self.token = pod_token(gw, sid)

    def room_path(self, session: dict[str, Any]) -> str:
        return (
            f"/sessions/{self.sid}/api/collaboration/room/text:file:{session['fileId']}"
            f"?sessionId={session['sessionId']}"
        )

    async def connect(self, session: dict[str, Any], direct: bool) -> Any:
        path = self.room_path(session)
        if direct:
            return await websockets.unix_connect(
                self.sock,
                uri=f"ws://pod{path}",
                additional_headers={"Authorization": f"token {self.token}"},
                max_size=None,
            )
        return await websockets.connect(
            self.api.ws_url(path), additional_headers=self.api.ws_headers(), max_size=None
        )

    @contextlib.asynccontextmanager
    async def client(self, session: dict[str, Any], direct: bool) -> AsyncIterator[Doc]:
        doc: Doc = Doc()
        async with await self.connect(session, direct) as ws:
            async with Provider(doc, RoomChannel(ws, "bench")) as provider:
                await asyncio.wait_for(provider.synced.wait(), 30)
                yield doc


async def measure_pair(a: Doc, b: Doc, edits: int) -> list[float]:
    """A appends a marker; B's observer records when its text first holds it."""
    text_a, text_b = a.get("source", type=Text), b.get("source", type=Text)
    waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}
    loop = asyncio.get_running_loop()

    def arrived(_event: object) -> None:
        current = str(text_b)
        for marker, (_, future) in list(waiting.items()):
            if marker in current and not future.done():
                future.set_result(time.perf_counter())
                del waiting[marker]

    subscription = text_b.observe(arrived)
    samples = []
    try:
        for _ in range(edits):
            marker = f"-- {secrets.token_hex(4)}\n"
            future: asyncio.Future[float] = loop.create_future()
            started = time.perf_counter()
            waiting[marker] = (started, future)
            text_a.insert(len(text_a), marker)
            samples.append(await asyncio.wait_for(future, 30) - started)
            await asyncio.sleep(0.02)
    finally:
        text_b.unobserve(subscription)
    return samples


async def latency(endpoints: Endpoints, sessions: list[dict[str, Any]], direct: bool,
                  edits: int) -> list[float]:  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        pairs = []
        for session in sessions:
            a = await stack.enter_async_context(endpoints.client(session, direct))
            b = await stack.enter_async_context(endpoints.client(session, direct))
            pairs.append((a, b))
        await asyncio.gather(*(measure_pair(a, b, 3) for a, b in pairs))  # warm up
        results = await asyncio.gather(*(measure_pair(a, b, edits) for a, b in pairs))
    return [sample for result in results for sample in result]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle_sockets(gw: GatewayProcess, endpoints: Endpoints, sessions: list[dict[str, Any]],
                       count: int, hold: float) -> None:  # fmt: skip
    assert gw.proc is not None
    pid = gw.proc.pid
    before = rss_mb(pid)
    sockets = []
    started = time.perf_counter()
    try:
        for i in range(count):
            ws = await endpoints.connect(sessions[i % len(sessions)], direct=False)
            sockets.append(ws)
        opened = time.perf_counter() - started
        await asyncio.sleep(2)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(hold)
        cpu = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
        held = rss_mb(pid)
        print(
            f"{count} idle room sockets: gateway RSS {before:.0f} MB -> {held:.0f} MB "
            f"(+{(held - before) * 1024 / count:.1f} KB a socket), CPU {cpu * 100:.1f} % of a core "
            f"over {hold:.0f} s; opened in {opened:.1f} s"
        )
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=40, help="edits per pair")
    parser.add_argument("--idle", type=int, default=1000, help="idle room sockets")
    parser.add_argument("--hold", type=float, default=20, help="seconds the idle sockets are held")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp)) as url:
        gw = GatewayProcess(
            Path(tmp) / "data", url, max_connections_per_address=str(args.idle + 500)
        )
        gw.start()
        try:
            gw.cli("user", "add", "bench", "--password", PASSWORD)
            gw.cli("member", "add", "demo", "bench", "developer")
            api = Api(gw.url)
            api.login("bench", PASSWORD)
            sid = api.open_session("demo")["id"]
            sessions = []
            async with await api.rpc(sid) as rpc:
                for i in range(max(PAIRS)):
                    path = f"bench/pair_{i}.sql"
                    await rpc.call("fs/write", {"path": path, "content": "select 1\n"})
                    sessions.append(open_file_session(api, sid, path))
            endpoints = Endpoints(gw, api, sid)
            print(f"edit latency A -> B, {args.edits} edits a pair, all pairs at once (ms)")
            print(f"{'pairs':>5}  {'gateway p50':>11} {'p99':>7}  {'direct p50':>10} {'p99':>7}"
                  f"  {'ratio p50':>9} {'p99':>6}")  # fmt: skip
            for pairs in PAIRS:
                # Alternating halves: a burst of load on the shared machine hits both paths.
                via, direct = [], []
                for _ in range(2):
                    via += await latency(endpoints, sessions[:pairs], False, args.edits // 2)
                    direct += await latency(endpoints, sessions[:pairs], True, args.edits // 2)
                g50, g99 = pct(via, 0.5), pct(via, 0.99)
                d50, d99 = pct(direct, 0.5), pct(direct, 0.99)
                print(f"{pairs:>5}  {g50:>11.2f} {g99:>7.2f}  {d50:>10.2f} {d99:>7.2f}"
                      f"  {g50 / d50:>8.2f}x {g99 / d99:>5.2f}x")  # fmt: skip
            await idle_sockets(gw, endpoints, sessions, args.idle, args.hold)
        finally:
            gw.stop()
            gw.stop_pods()


if __name__ == "__main__":
    asyncio.run(main())
