"""Reloading a 1 MB document open in a room, and the pod's responsiveness meanwhile.

A room holds a 1 MB file; ``fs/write`` changes it on disk by a small edit, then by a full
rewrite. For each: the reload time (the write's answer waits for open rooms to reload,
plus until a room client sees the new text) and the heartbeat latency on another socket
during it. Baselines from the same run: the same write with no room open, and heartbeats
on an idle pod. Goal: reload <= 200 ms, heartbeat p99 <= 50 ms.

    uv run python bench/bench_reload.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.client import Api, Rpc  # noqa: E402
from tests.support.gateway import PASSWORD, GatewayProcess  # noqa: E402
from tests.support.pg import temporary_database  # noqa: E402
from tests.support.ydoc import room, room_text  # noqa: E402

PATH = "models/bench_reload.sql"
LINES = [f"select {i} as col_{i}, 'padding padding' as p from t\n" for i in range(20_000)]
ORIGINAL = "".join(LINES)  # about 1 MB
SMALL_EDIT = ORIGINAL.replace("select 10000 as", "select 10001 as")
REWRITE = "".join(line.upper() for line in LINES)


async def heartbeats(rpc: Rpc, stop: asyncio.Event) -> list[float]:
    samples = []
    while not stop.is_set():
        t = time.perf_counter()
        await rpc.call("session/heartbeat")
        samples.append(time.perf_counter() - t)
    return samples


async def timed_write(
    api: Api, sid: str, content: str, doc: object | None
) -> tuple[float, list[float]]:
    """Seconds until the write answered and the room shows it; heartbeats meanwhile."""
    async with await api.rpc(sid) as writer, await api.rpc(sid) as beater:
        await beater.call("session/heartbeat")
        stop = asyncio.Event()
        beats = asyncio.ensure_future(heartbeats(beater, stop))
        t = time.perf_counter()
        await writer.call("fs/write", {"path": PATH, "content": content}, timeout=900)
        while doc is not None and room_text(doc) != content:  # type: ignore[arg-type]
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - t
        stop.set()
        return elapsed, await beats


def p99(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, temporary_database(Path(tmp)) as url:
        gw = GatewayProcess(Path(tmp) / "data", url)
        gw.start()
        try:
            gw.cli("user", "add", "bench", "--password", PASSWORD)
            gw.cli("member", "add", "demo", "bench", "developer")
            api = Api(gw.url)
            api.login("bench", PASSWORD)
            sid = api.open_session("demo")["id"]
            rows: dict[str, tuple[list[float], list[float]]] = {}
            for label, content in [
                ("no room, small edit", SMALL_EDIT),
                ("no room, rewrite", REWRITE),
            ]:
                rows[label] = ([], [])
                for _ in range(args.rounds):
                    await timed_write(api, sid, ORIGINAL, None)
                    elapsed, beats = await timed_write(api, sid, content, None)
                    rows[label][0].append(elapsed)
                    rows[label][1].extend(beats)
            await timed_write(api, sid, ORIGINAL, None)
            async with room(api, sid, PATH) as (doc, _):
                for label, content in [
                    ("room, small edit", SMALL_EDIT),
                    ("room, rewrite", REWRITE),
                ]:
                    rows[label] = ([], [])
                    for _ in range(args.rounds):
                        await timed_write(api, sid, ORIGINAL, doc)
                        elapsed, beats = await timed_write(api, sid, content, doc)
                        rows[label][0].append(elapsed)
                        rows[label][1].extend(beats)
            print(
                f"{'1 MB file':22} {'write+reload':>14} {'heartbeat p50':>14} {'p99':>9}"
                f" {'beats':>6}"
            )
            for label, (times, beats) in rows.items():
                print(
                    f"{label:22} {statistics.median(times) * 1000:11.1f} ms "
                    f"{statistics.median(beats) * 1000:11.2f} ms {p99(beats):6.2f} ms"
                    f" {len(beats):6}"
                )
            base = statistics.median(rows["no room, small edit"][0])
            for label in ("room, small edit", "room, rewrite"):
                extra = (statistics.median(rows[label][0]) - base) * 1000
                print(f"reload cost over the plain write, {label}: {extra:.1f} ms")
        finally:
            gw.stop()
            gw.stop_pods()


if __name__ == "__main__":
    asyncio.run(main())
