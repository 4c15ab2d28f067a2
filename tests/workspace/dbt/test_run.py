"""dbt/run through a real pod: the demo builds, notifications stream, busy, cancel, history.

One module-scoped pod: the tests run in file order and the build comes first, as a new
user's first command would.
"""

from __future__ import annotations

import asyncio
import time

import duckdb
import pytest

from tests.support.client import RpcFailure

from .conftest import Notes, Pod, new_id, preview_to_end, run_to_done, wait_done

# A model that runs for minutes unless cancelled: DuckDB aggregates a huge cross join.
LONG_MODEL = (
    "{{ config(materialized='table') }}\n"
    "select sum(a.range * b.range) as s from range(2000000000) as a, range(1000) as b\n"
)


async def test_dbt_build_of_the_demo_project_passes(rpc: Notes, demo_pod: Pod) -> None:
    done, seen = await run_to_done(rpc, "build")
    assert done["success"] is True, [m["params"].get("msg") for m in seen]
    assert done["cancelled"] is False
    # 1 seed, 4 staging views, 3 mart tables and the data tests (README of the demo).
    assert done["counts"]["error"] == 0 and done["counts"]["skip"] == 0
    assert done["counts"]["pass"] + done["counts"]["warn"] >= 8 + 60
    nodes = {m["params"]["unique_id"]: m["params"] for m in seen if m["method"] == "dbt/node"}
    assert nodes["model.demo_shop.customers"]["status"] == "success"
    assert nodes["seed.demo_shop.country_codes"]["status"] == "success"
    logs = [m["params"] for m in seen if m["method"] == "dbt/log"]
    assert any("Completed successfully" in entry["msg"] for entry in logs)
    assert all({"ts", "level", "msg"} <= set(entry) for entry in logs)
    # Built into the developer's own dev database, under the volume's reserved .ide/;
    # the shared demo warehouse was only read.
    dev = demo_pod.volume / ".ide" / "dbt" / "dev.duckdb"
    assert _count_rows(dev, "analytics.customers") == 50_000


def _count_rows(database, table: str) -> int:
    # The command's process lets go of the file a moment after dbt/done.
    deadline = time.monotonic() + 10
    while True:
        try:
            with duckdb.connect(str(database), read_only=True) as conn:
                return conn.execute(f"select count(*) from {table}").fetchone()[0]
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def test_previews_of_every_mart_model(rpc: Notes) -> None:
    for model in ("customers", "orders", "revenue_by_month"):
        path = f"models/marts/{model}.sql"
        sql = (await rpc.call("fs/read", {"path": path}))["content"]
        method, end, rows, columns = await preview_to_end(rpc, {"sql": sql, "path": path})
        assert method == "query/done", end
        assert rows and len(rows) == end["row_count"] <= 500
        assert columns["columns"]
        assert '"dev"."analytics"' in end["compiled_sql"]


async def test_preview_of_a_selection_inside_a_model(rpc: Notes) -> None:
    # A selection using the model's own Jinja: compiled in the model's context.
    sql = "select customer_id, lifetime_value from {{ ref('customers') }} order by 1 limit 3"
    method, end, rows, _ = await preview_to_end(
        rpc, {"sql": sql, "path": "models/marts/revenue_by_month.sql"}
    )
    assert method == "query/done", end
    assert [r[0] for r in rows] == [1, 2, 3]
    assert 'from "dev"."analytics"."customers"' in end["compiled_sql"]


async def test_preview_of_jinja_sql_without_a_path(rpc: Notes) -> None:
    sql = "select count(*) as n from {{ source('raw', 'customers') }}"
    method, end, rows, _ = await preview_to_end(rpc, {"sql": sql})
    assert method == "query/done", end
    assert rows == [[50_000]]


async def test_preview_of_a_write_in_jinja_is_refused(rpc: Notes) -> None:
    with pytest.raises(RpcFailure) as failure:
        await rpc.call(
            "query/preview", {"query_id": new_id(), "sql": "drop table {{ ref('customers') }}"}
        )
    assert failure.value.code == -32030


async def test_bad_commands_and_flags_are_named(rpc: Notes) -> None:
    cases = {
        ("rm", ()): "unknown dbt command",
        ("build", ("--profiles-dir", "/tmp")): "--profiles-dir",
        ("run", ("--project-dir=/etc",)): "--project-dir",
        ("run", ("--target-path", "../../elsewhere")): "--target-path",
        ("run", ("--log-path", "/var/log")): "--log-path",
        ("run", ("--no-such-flag",)): "--no-such-flag",
    }
    for (command, args), named in cases.items():
        with pytest.raises(RpcFailure) as failure:
            await rpc.call(
                "dbt/run", {"invocation_id": new_id(), "command": command, "args": list(args)}
            )
        assert failure.value.code == -32602, (command, args)
        assert named in failure.value.error["message"]


async def test_a_second_write_command_is_busy(rpc: Notes, demo_pod: Pod) -> None:
    long_model = demo_pod.volume / "models" / "long_running.sql"
    long_model.write_text(LONG_MODEL)
    try:
        first = await rpc.call(
            "dbt/run",
            {"invocation_id": new_id(), "command": "run", "args": ["-s", "long_running"]},
        )
        with pytest.raises(RpcFailure) as failure:
            await rpc.call("dbt/run", {"invocation_id": new_id(), "command": "seed"})
        assert failure.value.code == -32041
        assert "another command is running: dbt run, started" in failure.value.error["message"]
        # Reads run alongside.
        compiled = await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})
        assert compiled["compiled_sql"]

        # A preview while the build holds the dev database for writing.
        await rpc.first("invocation_id", first["invocation_id"], ("dbt/log",), timeout=60)
        sql = "select count(*) from {{ ref('customers') }}"
        started = time.monotonic()
        method, end, rows, _ = await preview_to_end(rpc, {"sql": sql})
        assert method == "query/done", end
        assert rows == [[50_000]]
        assert time.monotonic() - started < 20

        # Cancel: the invocation ends within 2 s, reported cancelled.
        await _wait_running(rpc, first["invocation_id"])
        started = time.monotonic()
        answer = await rpc.call("dbt/cancel", {"invocation_id": first["invocation_id"]})
        assert answer["cancelled"] is True
        done, _ = await wait_done(rpc, first["invocation_id"], timeout=10)
        assert time.monotonic() - started < 2.0
        assert done["cancelled"] is True and done["success"] is False
    finally:
        long_model.unlink()
    # The next invocation works (and the write slot is free again).
    done, _ = await run_to_done(rpc, "run", ["-s", "stg_products"])
    assert done["success"] is True


async def _wait_running(rpc: Notes, invocation_id: str) -> None:
    """Until dbt started the long model (its NodeStart was logged)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for message in rpc.of("invocation_id", invocation_id):
            if message["method"] == "dbt/log" and "long_running" in message["params"]["msg"]:
                await asyncio.sleep(0.3)
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the long model never started")


async def test_history_lists_this_users_invocations_newest_first(rpc: Notes, demo_pod) -> None:
    history = (await rpc.call("dbt/history", {}))["invocations"]
    assert [h["command"] for h in history[:3]] == ["run", "run", "build"]
    assert history[0]["status"] == "success" and history[1]["status"] == "cancelled"
    assert history[0]["args"] == ["-s", "stg_products"]
    assert set(history[0]) >= {
        "invocation_id",
        "branch",
        "commit",
        "started_at",
        "elapsed_ms",
        "counts",
    }
    other = await demo_pod.rpc(user="bob")
    try:
        assert (await other.call("dbt/history", {}))["invocations"] == []
    finally:
        await other.close()


async def test_lineage_and_catalog(rpc: Notes) -> None:
    lineage = await rpc.call(
        "dbt/lineage", {"path": "models/marts/customers.sql", "upstream": 1, "downstream": 1}
    )
    ids = {n["unique_id"] for n in lineage["nodes"]}
    assert {
        "model.demo_shop.customers",
        "model.demo_shop.stg_customers",
        "model.demo_shop.orders",
        "seed.demo_shop.country_codes",
    } <= ids
    assert "source.demo_shop.raw.customers" not in ids  # two hops up
    assert ["model.demo_shop.stg_customers", "model.demo_shop.customers"] in lineage["edges"]
    catalog = await rpc.call("dbt/catalog", {})
    models = {m["name"]: m for m in catalog["models"]}
    assert "lifetime_value" in models["customers"]["columns"]
    assert {(s["source"], s["table"]) for s in catalog["sources"]} >= {("raw", "orders")}
    assert any(m["name"] == "cents_to_currency" and m["arguments"] for m in catalog["macros"])
    # Built relations add the warehouse's columns to those schema.yml documents.
    assert "full_name" in models["stg_customers"]["columns"]


async def test_a_read_only_member_cannot_run_commands(demo_pod: Pod) -> None:
    viewer = await demo_pod.rpc(role="read-only")
    try:
        with pytest.raises(RpcFailure) as failure:
            await viewer.call("dbt/run", {"invocation_id": new_id(), "command": "build"})
        assert failure.value.code == -32001
        assert await viewer.call("dbt/compile", {"path": "models/marts/orders.sql"})
    finally:
        await viewer.close()
