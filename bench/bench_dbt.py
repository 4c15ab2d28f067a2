"""Warm dbt in the pod against dbt's command line, side by side, in one run.

    uv run python bench/bench_dbt.py [--repeat 10] [--model customers]

On a copy of the demo project and its warehouse, built once with ``dbt build``:

- compile: ``dbt/compile`` of one model with ``ref()`` through a real pod (WebSocket →
  pod → warm worker), against ``dbt compile -s <model>`` from the command line;
- preview: ``query/preview`` of the same model (first rows batch and all 500 rows) against
  ``dbt show -s <model> --limit 500`` from the command line.

Pod figures are medians over ``--repeat`` calls after one warm-up (the cold first call,
which starts the worker and parses the project, is printed apart); the command line is run
``--cli-repeat`` times. Both use the same generated profile and dev database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ide_server.demo.warehouse import create_demo_warehouse  # noqa: E402
from tests.workspace.dbt.conftest import DEMO_PROJECT, start_pod  # noqa: E402


async def call(ws: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    request_id = secrets.token_hex(4)
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                              "params": params}))  # fmt: skip
    while True:
        message = json.loads(await ws.recv())
        if message.get("id") == request_id:
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            return dict(message["result"])


async def build(ws: Any) -> None:
    invocation_id = secrets.token_hex(8)
    await call(ws, "dbt/run", {"invocation_id": invocation_id, "command": "build"})
    while True:
        message = json.loads(await ws.recv())
        if message.get("method") == "dbt/done":
            if not message["params"]["success"]:
                raise RuntimeError("dbt build failed in the pod")
            return


async def compile_ms(ws: Any, path: str) -> float:
    started = time.perf_counter()
    await call(ws, "dbt/compile", {"path": path})
    return (time.perf_counter() - started) * 1000


async def preview_ms(ws: Any, path: str, sql: str) -> tuple[float, float]:
    query_id = secrets.token_hex(8)
    started = time.perf_counter()
    params = {"query_id": query_id, "sql": sql, "path": path}
    await ws.send(
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "query/preview", "params": params})
    )
    first = None
    while True:
        message = json.loads(await ws.recv())
        if "error" in message or message.get("method") == "query/error":
            raise RuntimeError(f"preview failed: {message}")
        if message.get("method") == "query/rows" and first is None:
            first = time.perf_counter()
        if message.get("method") == "query/done":
            end = time.perf_counter()
            return ((first or end) - started) * 1000, (end - started) * 1000


def cli_ms(argv: list[str], volume: Path, profiles: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *argv, "--profiles-dir", str(profiles),
         "--project-dir", str(volume), "--target", "dev", "--quiet"],
        cwd=volume, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return (time.perf_counter() - started) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--cli-repeat", type=int, default=3)
    parser.add_argument("--model", default="customers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-"))
    warehouse = create_demo_warehouse(work / "data")
    volume = work / "volume"
    shutil.copytree(DEMO_PROJECT, volume)
    path = f"models/marts/{args.model}.sql"
    sql = (volume / path).read_text()
    pod = start_pod(volume, {"type": "duckdb", "path": str(warehouse)})
    try:
        headers = {"Authorization": f"token {pod.token}", "X-IDE-Role": "developer"}
        async with websockets.connect(pod.url, additional_headers=headers, max_size=None) as ws:
            print(f"building the demo project in the pod under {work} ...")
            await build(ws)
            cold_compile = await compile_ms(ws, path)
            await compile_ms(ws, path)
            compiles = [await compile_ms(ws, path) for _ in range(args.repeat)]
            cold_preview = await preview_ms(ws, path, sql)
            previews = [await preview_ms(ws, path, sql) for _ in range(args.repeat)]
    finally:
        pod.stop()
    # The CLI gets the profile the pod generates (same dev database, same attachments).
    profiles = _write_cli_profile(volume, warehouse, work)
    cli_compile = [cli_ms(["compile", "-s", args.model], volume, profiles)
                   for _ in range(args.cli_repeat)]  # fmt: skip
    cli_show = [cli_ms(["show", "-s", args.model, "--limit", "500"], volume, profiles)
                for _ in range(args.cli_repeat)]  # fmt: skip
    report(args.model, cold_compile, compiles, cli_compile, cold_preview, previews, cli_show)


def _write_cli_profile(volume: Path, warehouse: Path, work: Path) -> Path:
    from ide_server.workspace.dbt.profiles import write_profiles

    setup = write_profiles(
        {"type": "duckdb", "path": str(warehouse)},
        project_dir=volume,
        volume=volume,
        private_dir=work / "cli-profile",
        user="bench",
    )
    return setup.profiles_dir


def report(model: str, cold_compile: float, compiles: list[float], cli_compile: list[float],
           cold_preview: tuple[float, float], previews: list[tuple[float, float]],
           cli_show: list[float]) -> None:  # fmt: skip
    warm = statistics.median(compiles)
    cli = statistics.median(cli_compile)
    first = statistics.median(p[0] for p in previews)
    total = statistics.median(p[1] for p in previews)
    show = statistics.median(cli_show)
    print(f"\nmodel {model} (demo project, DuckDB), medians")
    print(f"  compile  pod warm   {warm:8.1f} ms   (cold first call {cold_compile:.0f} ms)")
    print(f"           dbt CLI    {cli:8.1f} ms   ratio CLI/pod {cli / warm:6.1f}x")
    print(f"  preview  pod first batch {first:8.1f} ms   all 500 rows {total:8.1f} ms   "
          f"(cold {cold_preview[1]:.0f} ms)")  # fmt: skip
    print(f"           dbt show --limit 500 {show:8.1f} ms   ratio CLI/pod "
          f"{show / first:6.1f}x (first batch), {show / total:6.1f}x (all rows)")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
