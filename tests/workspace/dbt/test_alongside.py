"""What runs beside what, on DuckDB, through a real pod: a second socket of the session sees
another tab's run; `dbt show` (and `debug`) run while a build holds the dev database, with
no lock error reaching anyone; a node compiled in its own context sees what the dev
database holds (`is_incremental()`, `{{ this }}`).

One module-scoped pod; the tests run in file order and the first one builds the project.
"""

from __future__ import annotations

import asyncio

from .conftest import Notes, Pod, new_id, run_to_done, wait_done

LONG_MODEL = (
    "{{ config(materialized='table') }}\n"
    "select sum(a.range * b.range) as s from range(2000000000) as a, range(1000) as b\n"
)
INCREMENTAL = (
    "{{ config(materialized='incremental', unique_key='customer_id') }}\n"
    "select customer_id, current_timestamp as seen_at from {{ ref('stg_customers') }}\n"
    "{% if is_incremental() %}\n"
    "where customer_id > (select max(customer_id) from {{ this }})\n"
    "{% endif %}\n"
)


def _messages(notes: Notes, invocation_id: str, method: str) -> list[dict]:
    return [m["params"] for m in notes.of("invocation_id", invocation_id) if m["method"] == method]


async def test_a_second_socket_sees_the_run_of_the_first(demo_pod: Pod) -> None:
    first, second = Notes(await demo_pod.rpc()), Notes(await demo_pod.rpc())
    try:
        done, _ = await run_to_done(first, "build")
        assert done["success"] is True
        invocation_id = done["invocation_id"]
        # The other tab got every notification of the run, not only the calling one.
        seen, _ = await wait_done(second, invocation_id, timeout=30)
        assert seen == done
        for method in ("dbt/log", "dbt/node"):
            assert len(_messages(second, invocation_id, method)) == len(
                _messages(first, invocation_id, method)
            ) > 0, method  # fmt: skip
        nodes = {n["unique_id"] for n in _messages(second, invocation_id, "dbt/node")}
        assert "model.demo_shop.customers" in nodes
    finally:
        await first.close()
        await second.close()


async def test_show_and_debug_run_while_a_build_writes(rpc: Notes, demo_pod: Pod) -> None:
    long_model = demo_pod.volume / "models" / "long_running.sql"
    long_model.write_text(LONG_MODEL)
    try:
        build = new_id()
        await rpc.call(
            "dbt/run", {"invocation_id": build, "command": "run", "args": ["-s", "long_running"]}
        )
        # The build has the dev database open for writing by now.
        await rpc.first("invocation_id", build, ("dbt/log",), timeout=60)
        await asyncio.sleep(1.0)
        done, seen = await run_to_done(
            rpc, "show", ["-s", "customers", "--limit", "3"], timeout=120
        )
        logs = [m["params"]["msg"] for m in seen if m["method"] == "dbt/log"]
        assert done["success"] is True, logs
        assert done["counts"]["pass"] == 1
        table = next(msg for msg in logs if msg.startswith("Previewing node 'customers':"))
        assert "lifetime_value" in table
        assert len(table.splitlines()) == 1 + 2 + 3  # title, header and rule, three rows
        # Inline SQL with a ref, too.
        done, seen = await run_to_done(
            rpc, "show", ["--inline", "select count(*) as n from {{ ref('orders') }}"]
        )
        assert done["success"] is True
        assert any("Previewing inline node:" in m["params"]["msg"] for m in seen)

        done, seen = await run_to_done(rpc, "debug", timeout=120)
        assert done["success"] is True, [m["params"].get("msg") for m in seen]
        # Still running: neither read waited for the build, nor took its slot.
        assert not _messages(rpc, build, "dbt/done")
        everything = " ".join(str(m["params"].get("msg", "")) for m in rpc.all)
        assert "Could not set lock" not in everything
        await rpc.call("dbt/cancel", {"invocation_id": build})
        cancelled, _ = await wait_done(rpc, build, timeout=10)
        assert cancelled["cancelled"] is True
    finally:
        long_model.unlink()


async def test_show_of_an_unknown_model_says_so(rpc: Notes) -> None:
    done, seen = await run_to_done(rpc, "show", ["-s", "no_such_model"])
    assert done["success"] is False
    errors = [m["params"]["msg"] for m in seen if m["params"].get("level") == "error"]
    assert any("no_such_model" in e for e in errors), errors


async def test_is_incremental_once_the_model_is_built(rpc: Notes, demo_pod: Pod) -> None:
    model = demo_pod.volume / "models" / "seen_customers.sql"
    model.write_text(INCREMENTAL)
    try:
        path = "models/seen_customers.sql"
        first = await rpc.call("dbt/compile", {"path": path})
        assert "where customer_id >" not in first["compiled_sql"]
        done, _ = await run_to_done(rpc, "run", ["-s", "+seen_customers"])
        assert done["success"] is True
        # Built: the same node in its own context is incremental, `this` its relation.
        second = await rpc.call("dbt/compile", {"path": path})
        sql = second["compiled_sql"]
        assert "where customer_id > (select max(customer_id) from" in sql, sql
        assert '"dev".' in sql and "seen_customers" in sql.split("from")[-1]
        # The unsaved buffer of the same node too.
        edited = INCREMENTAL.replace("current_timestamp", "now()")
        third = await rpc.call("dbt/compile", {"path": path, "content": edited})
        assert "now()" in third["compiled_sql"] and "where customer_id >" in third["compiled_sql"]
        # --full-refresh is dbt's business at run time; a full refresh run still works.
        done, _ = await run_to_done(rpc, "run", ["-s", "seen_customers", "--full-refresh"])
        assert done["success"] is True
    finally:
        model.unlink()
