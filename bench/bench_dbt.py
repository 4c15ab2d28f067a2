"""Warm dbt in the pod against dbt's command line, side by side, in one run.

    uv run python bench/bench_dbt.py [--repeat 10] [--model customers]

On a copy of the demo project and its warehouse, built once with ``dbt build``:

- compile: ``dbt/compile`` of one model with ``ref()`` through a real pod (WebSocket →
  pod → warm worker), against ``dbt compile -s <model>`` from the command line;
- preview: ``query/preview`` of the same model (first rows batch and all 500 rows) against
  ``dbt show -s <model> --limit 500`` from the command line.

Then on a generated project of ``--models`` (500) table models, each ref-ing up to three
earlier ones, built once in the pod:

- first parse: a fresh pod's first ``dbt/lineage`` (starts the worker, parses everything)
  against ``dbt parse --no-partial-parse``;
- compile just after an edit: the model's file is changed on disk, then ``dbt/compile``
  (the worker re-parses partially), against an edit then ``dbt compile -s <model>``;
- preview of one model (all its rows, up to 500) against ``dbt show -s <model> --limit 500``.

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


async def build(ws: Any, command: str = "build") -> None:
    invocation_id = secrets.token_hex(8)
    await call(ws, "dbt/run", {"invocation_id": invocation_id, "command": command})
    while True:
        message = json.loads(await ws.recv())
        if message.get("method") == "dbt/done":
            if not message["params"]["success"]:
                raise RuntimeError(f"dbt {command} failed in the pod")
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
    parser.add_argument("--models", type=int, default=500, help="of the generated project")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    if not args.skip_demo:
        await demo_case(args)
    await generated_case(args)


async def demo_case(args: argparse.Namespace) -> None:
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


def _write_cli_profile(
    volume: Path, warehouse: Path, work: Path, settings: dict[str, Any] | None = None
) -> Path:
    from ide_server.workspace.dbt.profiles import write_profiles

    setup = write_profiles(
        settings or {"type": "duckdb", "path": str(warehouse)},
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


# -- the generated project -------------------------------------------------------------

GENERATED_PROFILE = "bench_generated"


def generate_project(root: Path, count: int) -> None:
    """``count`` table models m_000...: the first ten from ``range``, each later one joining
    up to three earlier ones (a deep, wide graph, as a real project's). Tables, not views:
    DuckDB expands nested views when it binds one, and a 500-deep chain of views sharing
    parents expands without end."""
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        f"name: {GENERATED_PROFILE}\nversion: '1.0'\nprofile: {GENERATED_PROFILE}\n"
        "model-paths: [models]\nmodels:\n  +materialized: table\n"
    )
    for i in range(count):
        (root / "models" / f"{_name(i)}.sql").write_text(_model_sql(i))


def _name(i: int) -> str:
    return f"m_{i:03d}"


def _model_sql(i: int, note: str = "") -> str:
    if i < 10:
        return f"-- {note}\nselect range as id, range * {i + 1} as v from range(1000)\n"
    parents = sorted({i - 1, i // 2, (i * 7) % i})
    first, *rest = parents
    joins = "".join(f"join {{{{ ref('{_name(p)}') }}}} as p{p} using (id)\n" for p in rest)
    total = " + ".join(f"p{p}.v" for p in parents)
    return (
        f"-- {note}\nselect p{first}.id, ({total}) % 100000 as v\n"
        f"from {{{{ ref('{_name(first)}') }}}} as p{first}\n{joins}"
    )


async def generated_case(args: argparse.Namespace) -> None:
    count = args.models
    work = Path(tempfile.mkdtemp(prefix="bench-dbt-gen-"))
    warehouse = create_demo_warehouse(work / "data")
    volume = work / "volume"
    generate_project(volume, count)
    target = count - 1
    name, path = _name(target), f"models/{_name(target)}.sql"
    model_file = volume / path
    warehouse_settings = {"type": "duckdb", "path": str(warehouse), "threads": 4}
    print(f"\ngenerated project of {count} models under {work} ...")
    pod = start_pod(volume, warehouse_settings)
    try:
        headers = {"Authorization": f"token {pod.token}", "X-IDE-Role": "developer"}
        async with websockets.connect(pod.url, additional_headers=headers, max_size=None) as ws:
            started = time.perf_counter()
            await call(ws, "dbt/lineage", {"path": path, "upstream": 0, "downstream": 0})
            first_parse = (time.perf_counter() - started) * 1000
            print("building it in the pod ...")
            await build(ws, "run")
            edits = []
            for n in range(args.repeat + 1):
                model_file.write_text(_model_sql(target, f"edit {n}"))
                edits.append(await compile_ms(ws, path))
            edits = edits[1:]
            sql = model_file.read_text()
            await preview_ms(ws, path, sql)
            previews = [await preview_ms(ws, path, sql) for _ in range(args.repeat)]
    finally:
        pod.stop()
    profiles = _write_cli_profile(volume, warehouse, work, warehouse_settings)
    cli_parse = [cli_ms(["parse", "--no-partial-parse"], volume, profiles)
                 for _ in range(args.cli_repeat)]  # fmt: skip
    cli_edit = []
    for n in range(args.cli_repeat):
        model_file.write_text(_model_sql(target, f"cli edit {n}"))
        cli_edit.append(cli_ms(["compile", "-s", name], volume, profiles))
    cli_show = [cli_ms(["show", "-s", name, "--limit", "500"], volume, profiles)
                for _ in range(args.cli_repeat)]  # fmt: skip
    edit, cli_e = statistics.median(edits), statistics.median(cli_edit)
    parse = statistics.median(cli_parse)
    first = statistics.median(p[0] for p in previews)
    total = statistics.median(p[1] for p in previews)
    show = statistics.median(cli_show)
    print(f"\ngenerated project of {count} models (DuckDB), model {name}, medians")
    print(f"  first parse   pod {first_parse:8.1f} ms (worker start + parse)   "
          f"dbt parse {parse:8.1f} ms   ratio CLI/pod {parse / first_parse:5.1f}x")  # fmt: skip
    print(f"  edit+compile  pod {edit:8.1f} ms   dbt compile -s {cli_e:8.1f} ms   "
          f"ratio CLI/pod {cli_e / edit:5.1f}x")  # fmt: skip
    print(f"  preview       pod first batch {first:8.1f} ms, all rows {total:8.1f} ms   "
          f"dbt show --limit 500 {show:8.1f} ms   ratio CLI/pod {show / total:5.1f}x")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
