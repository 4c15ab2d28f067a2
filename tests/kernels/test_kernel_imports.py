"""A SQL kernel loads what its previews need and no more: for the statements the pod guarded,
not the SQL parser (a good part of a kernel's memory, and the pod holds it already), and
never the driver of the warehouse it does not use, nor ipykernel's stack (it speaks the
protocol itself). A warehouse error then tells where it
points in the guarded statement (``offset``), which the pod maps back to the user's SQL.

The kernel runs for real, from a kernelspec that starts ``kernels.sql`` as the pod's does,
beside a thread that writes the modules loaded once the test asks (a kernel's exit is not
a reliable moment: jupyter_client may end it with a signal)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from kernels.sql.guard import guard
from kernels.sql.kernel import WAREHOUSE_ENV
from kernels.sql.kernelspec import KERNEL_NAME, kernelspec_json

from .kernel_client import preview, rows_of

RECORD_MODULES = """
import json, os, runpy, sys, threading, time
out = os.environ["TEST_KERNEL_MODULES"]
def record():
    while not os.path.exists(out + ".asked"):
        time.sleep(0.05)
    with open(out + ".tmp", "w") as f:
        f.write(json.dumps(sorted(list(sys.modules))))
    os.replace(out + ".tmp", out)
threading.Thread(target=record, daemon=True).start()
runpy.run_module("kernels.sql", run_name="__main__", alter_sys=True)
"""


def recording_kernelspec(root: Path) -> Path:
    spec = kernelspec_json()
    assert spec["argv"][:4] == [sys.executable, "-P", "-m", "kernels.sql"]
    spec["argv"] = [sys.executable, "-P", "-c", RECORD_MODULES, *spec["argv"][4:]]
    (root / KERNEL_NAME).mkdir(parents=True)
    (root / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec))
    return root


async def modules_after_previews(
    tmp_path: Path, settings: dict[str, Any], dialect: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """Run a guarded preview and a guarded failing one; the kernel's modules at exit and
    the failing preview's error event."""
    out = tmp_path / "modules.json"
    specs = KernelSpecManager(kernel_dirs=[str(recording_kernelspec(tmp_path / "specs"))])
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    env = {**os.environ, WAREHOUSE_ENV: json.dumps(settings), "TEST_KERNEL_MODULES": str(out)}
    await km.start_kernel(env=env)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        errors = []
        for sql in ("select n from nums order by n", "select n\nfrom nums\nwhere nosuch > 1"):
            checked = dataclasses.asdict(guard(sql, dialect, cap=3))
            request = {"query_id": "q", "sql": sql, "limit": 3, "guarded": checked}
            events, reply = await preview(client, request)
            assert reply["status"] == ("ok" if "nosuch" not in sql else "error"), events
            if events[-1]["event"] == "error":
                errors.append({**events[-1], "guarded": checked})
            else:
                assert rows_of(events) == [[1], [2], [3]]
        Path(f"{out}.asked").touch()
        for _ in range(200):
            if out.exists():
                return json.loads(out.read_text()), errors
            await asyncio.sleep(0.05)
        raise AssertionError("the kernel did not write its modules")
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


def _loaded(modules: list[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
async def test_a_kernel_loads_neither_the_parser_nor_the_other_driver(
    tmp_path: Path,
    warehouse: str,
    duckdb_settings: dict[str, Any],
    pg_settings: dict[str, Any],
) -> None:
    settings = duckdb_settings if warehouse == "duckdb" else pg_settings
    modules, errors = await modules_after_previews(tmp_path, settings, warehouse)
    assert not _loaded(modules, "sqlglot")
    # The kernel speaks the Jupyter protocol itself: none of ipykernel's stack is loaded
    # (asyncio comes with psycopg, never for DuckDB).
    for stack in ("ipykernel", "IPython", "jupyter_client", "tornado", "traitlets"):
        assert not _loaded(modules, stack), stack
    assert _loaded(modules, "asyncio") == (warehouse == "postgres")
    driver, other = ("duckdb", "psycopg") if warehouse == "duckdb" else ("psycopg", "duckdb")
    assert _loaded(modules, driver) and not _loaded(modules, other)
    # The failing preview: the warehouse's offset, in the statement the pod sent, of the
    # unknown column (which the pod maps; see tests/workspace/test_query.py).
    (error,) = errors
    assert "nosuch" in error["message"] and "position" not in error
    assert error["guarded"]["sql"][error["offset"] :].lower().startswith("nosuch")
