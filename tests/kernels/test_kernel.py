"""The SQL kernel as a real Jupyter kernel, driven by jupyter_client's AsyncKernelManager."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from kernels.sql.kernel import WAREHOUSE_ENV
from kernels.sql.kernelspec import KERNEL_NAME, write_kernelspec
from kernels.warehouses.base import BATCH_BYTES

from .kernel_client import preview, rows_of

HUGE_CROSS_JOIN = "SELECT sum(a.range * b.range) FROM range(1000000000) AS a, range(1000) AS b"


async def start_kernel(spec_root: Path, settings: dict[str, Any]) -> AsyncKernelManager:
    specs = KernelSpecManager(kernel_dirs=[str(write_kernelspec(spec_root))])
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    await km.start_kernel(env={**os.environ, WAREHOUSE_ENV: json.dumps(settings)})
    return km


@pytest.fixture(scope="module")
async def duck_kernel(
    tmp_path_factory: pytest.TempPathFactory, duckdb_settings: dict[str, Any]
) -> AsyncIterator[tuple[AsyncKernelManager, Any]]:
    km = await start_kernel(tmp_path_factory.mktemp("specs"), duckdb_settings)
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    yield km, client
    client.stop_channels()
    await km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
async def pg_kernel(
    tmp_path_factory: pytest.TempPathFactory, pg_settings: dict[str, Any]
) -> AsyncIterator[tuple[AsyncKernelManager, Any]]:
    km = await start_kernel(tmp_path_factory.mktemp("specs"), pg_settings)
    client = km.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    yield km, client
    client.stop_channels()
    await km.shutdown_kernel(now=True)


@pytest.fixture(params=["duckdb", "postgres"])
def any_kernel(request: pytest.FixtureRequest, duck_kernel: Any, pg_kernel: Any) -> Any:
    return duck_kernel if request.param == "duckdb" else pg_kernel


async def test_kernelspec_is_found_without_install(tmp_path: Path) -> None:
    specs = KernelSpecManager(kernel_dirs=[str(write_kernelspec(tmp_path))])
    spec = specs.get_kernel_spec(KERNEL_NAME)
    assert spec.language == "sql" and spec.interrupt_mode == "message"
    write_kernelspec(tmp_path)  # idempotent


async def test_streams_columns_rows_done(any_kernel: Any) -> None:
    _, client = any_kernel
    events, reply = await preview(
        client, {"query_id": "q1", "sql": "SELECT n, label FROM nums ORDER BY n", "limit": 250}
    )
    assert reply["status"] == "ok"
    assert all(e["query_id"] == "q1" for e in events)
    # Rows the warehouse read before the previous batch went out travel together: one to
    # three batches of rows, never one above the byte bound.
    kinds = [e["event"] for e in events]
    assert kinds[0] == "columns" and kinds[-1] == "done" and set(kinds[1:-1]) == {"rows"}
    assert all(len(json.dumps(e["rows"])) <= BATCH_BYTES for e in events[1:-1])
    assert [c["name"] for c in events[0]["columns"]] == ["n", "label"]
    assert [r[0] for r in rows_of(events)] == list(range(1, 251))
    done = events[-1]
    assert done["row_count"] == 250 and done["truncated"] is True
    assert isinstance(done["elapsed_ms"], float) and done["elapsed_ms"] >= 0


async def test_default_cap_is_500(duck_kernel: Any) -> None:
    _, client = duck_kernel
    events, _ = await preview(client, {"query_id": "q", "sql": "SELECT * FROM nums"})
    assert len(rows_of(events)) == 500 and events[-1]["truncated"] is True


async def test_transpiles_from_a_named_dialect(pg_kernel: Any) -> None:
    _, client = pg_kernel
    sql = "SELECT TOP 3 IFF(n > 1, 'big', 'small') AS size FROM nums ORDER BY n"
    events, _ = await preview(client, {"query_id": "q", "sql": sql, "dialect": "snowflake"})
    assert rows_of(events) == [["small"], ["big"], ["big"]]


async def test_refused_never_reaches_the_warehouse(tmp_path: Path) -> None:
    # The warehouse file does not exist: any attempt to reach it would say so.
    km = await start_kernel(tmp_path, {"type": "duckdb", "path": str(tmp_path / "none.duckdb")})
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        events, reply = await preview(client, {"query_id": "q", "sql": "DROP TABLE nums"})
        assert reply["status"] == "error"
        assert events == [
            {"query_id": "q", "event": "error", "cancelled": False, "message": events[0]["message"]}
        ]
        assert "refused: DROP TABLE" in events[0]["message"]
        events, _ = await preview(client, {"query_id": "q2", "sql": "SELECT 1"})
        assert "does not exist" in events[-1]["message"]
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


async def test_syntax_error_position_from_the_guard(duck_kernel: Any) -> None:
    _, client = duck_kernel
    events, _ = await preview(client, {"query_id": "q", "sql": "SELECT n\nFROM nums WHERE ("})
    assert events[-1]["event"] == "error"
    assert events[-1]["position"] == {"line": 2, "column": 17}


async def test_warehouse_error_position_points_into_the_users_sql(any_kernel: Any) -> None:
    _, client = any_kernel
    sql = "select n\n  from nums\n  where nosuch > 1\n  order by n"
    events, _ = await preview(client, {"query_id": "q", "sql": sql})
    error = events[-1]
    assert error["event"] == "error" and "nosuch" in error["message"]
    assert error["position"] == {"line": 3, "column": 9}


async def test_bad_request_is_an_error_reply(duck_kernel: Any) -> None:
    _, client = duck_kernel
    msg_id = client.execute("SELECT 1", store_history=False, stop_on_error=False)
    reply = await client.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    assert "not JSON" in reply["content"]["evalue"]
    events, _ = await preview(client, {"query_id": "q", "sql": "SELECT 1", "limit": 20000})
    assert events == [] or events[-1]["event"] == "error"


async def _cancel_after(km: AsyncKernelManager, delay: float) -> None:
    await asyncio.sleep(delay)
    await km.interrupt_kernel()


async def test_interrupt_cancels_and_the_kernel_stays_usable(
    any_kernel: Any, duck_kernel: Any
) -> None:
    km, client = any_kernel
    sql = HUGE_CROSS_JOIN if any_kernel is duck_kernel else "SELECT pg_sleep(30)"
    canceller = asyncio.create_task(_cancel_after(km, 0.5))
    started = time.monotonic()
    events, reply = await preview(client, {"query_id": "long", "sql": sql})
    await canceller
    assert time.monotonic() - started < 1.5
    assert events[-1]["event"] == "error" and events[-1]["cancelled"] is True
    assert events[-1]["message"] == "the query was cancelled"
    events, reply = await preview(client, {"query_id": "next", "sql": "SELECT 42 AS x"})
    assert reply["status"] == "ok" and rows_of(events) == [[42]]


async def test_no_history_is_kept(duck_kernel: Any) -> None:
    _, client = duck_kernel
    await preview(client, {"query_id": "q", "sql": "SELECT 'remember me'"})
    client.history(hist_access_type="tail", n=100)
    reply = await client.get_shell_msg(timeout=30)
    assert reply["content"].get("history", []) == []


async def test_interrupt_naming_another_query_is_ignored(duck_kernel: Any) -> None:
    _, client = duck_kernel

    async def interrupt(query_id: str) -> None:
        await asyncio.sleep(0.3)
        client.control_channel.send(client.session.msg("interrupt_request", {"query_id": query_id}))

    sql = "SELECT sum(a.range * b.range) FROM range(300000) AS a, range(1000) AS b"  # ~2 s
    late = asyncio.create_task(interrupt("an-earlier-query"))
    events, reply = await preview(client, {"query_id": "current", "sql": sql})
    await late
    assert reply["status"] == "ok" and events[-1]["event"] == "done"
    aimed = asyncio.create_task(interrupt("current"))
    events, _ = await preview(client, {"query_id": "current", "sql": HUGE_CROSS_JOIN})
    await aimed
    assert events[-1]["event"] == "error" and events[-1]["cancelled"] is True


async def test_the_pods_guarded_statement_is_run_without_parsing_again(duck_kernel: Any) -> None:
    from kernels.sql.guard import guard

    _, client = duck_kernel
    sql = "SELECT 1 AS x"
    checked = guard(sql, "duckdb", cap=5)
    # What the pod sends: the statement it checked and capped. The kernel runs that one
    # (here visibly not what parsing ``sql`` again would give).
    pods = {**checked.__dict__, "sql": "SELECT 2 AS x LIMIT 6"}
    events, reply = await preview(
        client, {"query_id": "g1", "sql": sql, "limit": 5, "guarded": pods}
    )
    assert reply["status"] == "ok" and rows_of(events) == [[2]]
    # One for another statement, dialect or cap is not taken: the kernel guards itself.
    for mismatch in (
        {**pods, "source_sql": "SELECT 3"},
        {**pods, "dialect": "postgres"},
        {**pods, "cap": 6},
        "not a statement",
    ):
        events, reply = await preview(
            client, {"query_id": "g2", "sql": sql, "limit": 5, "guarded": mismatch}
        )
        assert reply["status"] == "ok" and rows_of(events) == [[1]], mismatch
    refused = {**pods, "source_sql": "DELETE FROM nums", "sql": "DELETE FROM nums"}
    events, _ = await preview(
        client, {"query_id": "g3", "sql": "DELETE FROM nums", "limit": 5, "guarded": refused}
    )
    # A forged "checked" write still meets the read-only warehouse.
    assert events[-1]["event"] == "error"
    assert "read-only" in events[-1]["message"].lower()
    events, _ = await preview(client, {"query_id": "g4", "sql": "SELECT count(*) FROM nums"})
    assert rows_of(events)[0][0] > 0  # nothing was deleted


async def test_sigint_cancels_the_statement_and_the_kernel_goes_on(duck_kernel: Any) -> None:
    # The kernel manager's fallback interrupt is a signal: it cancels like the message.
    km, client = duck_kernel

    async def signal_soon() -> None:
        await asyncio.sleep(0.5)
        os.kill(km.provisioner.pid, signal.SIGINT)

    interrupter = asyncio.create_task(signal_soon())
    events, reply = await preview(client, {"query_id": "long", "sql": HUGE_CROSS_JOIN})
    await interrupter
    assert events[-1]["event"] == "error" and events[-1]["cancelled"] is True
    assert reply["status"] == "error"
    events, reply = await preview(client, {"query_id": "after", "sql": "SELECT 7 AS x"})
    assert reply["status"] == "ok" and rows_of(events) == [[7]]
