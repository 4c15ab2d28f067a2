"""dbt/compile through a real pod on the demo project: a model, an unsaved buffer, errors."""

from __future__ import annotations

import pytest

from tests.support.client import RpcFailure

from .conftest import Notes


async def test_compile_a_model_with_ref(rpc: Notes) -> None:
    result = await rpc.call("dbt/compile", {"path": "models/marts/customers.sql"})
    sql = result["compiled_sql"]
    assert result["path"] == "models/marts/customers.sql"
    # ref() resolved to the developer's dev database; Jinja gone, var() filled in.
    assert '"dev"."analytics"."stg_customers"' in sql
    assert '"dev"."analytics"."orders"' in sql
    assert "{{" not in sql and "{%" not in sql
    assert ">= 250 then 'vip'" in sql
    assert result["elapsed_ms"] > 0


async def test_compile_an_unsaved_buffer_in_the_models_context(rpc: Notes) -> None:
    # The buffer refs a model the saved file does not (dbt would refuse an unknown ref),
    # and uses {{ this }}, which only the node's own context knows.
    content = "select * from {{ ref('stg_payments') }} -- {{ this }}\n"
    result = await rpc.call(
        "dbt/compile", {"path": "models/marts/customers.sql", "content": content}
    )
    assert result["compiled_sql"].strip() == (
        'select * from "dev"."analytics"."stg_payments" -- "dev"."analytics"."customers"'
    )
    # The saved file's compile is untouched by the buffer.
    saved = await rpc.call("dbt/compile", {"path": "models/marts/customers.sql"})
    assert "stg_payments" not in saved["compiled_sql"]


async def test_compile_of_a_broken_buffer_names_file_and_line(rpc: Notes) -> None:
    content = "select 1 as a\nfrom {{ ref('stg_orders') }}\nwhere {{ bad( }}\n"
    with pytest.raises(RpcFailure) as failure:
        await rpc.call("dbt/compile", {"path": "models/marts/orders.sql", "content": content})
    assert failure.value.code == -32040
    assert failure.value.error["data"] == {"path": "models/marts/orders.sql", "line": 3}
    assert "Compilation Error" in failure.value.error["message"]
    # The worker survived: the next compile works.
    ok = await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})
    assert "select" in ok["compiled_sql"]


async def test_compile_of_a_ref_to_a_missing_model(rpc: Notes) -> None:
    content = "select * from {{ ref('no_such_model') }}"
    with pytest.raises(RpcFailure) as failure:
        await rpc.call("dbt/compile", {"path": "models/marts/orders.sql", "content": content})
    assert failure.value.code == -32040
    assert "no_such_model" in failure.value.error["message"]


async def test_compile_sees_a_file_saved_after_the_first_parse(rpc: Notes, demo_pod) -> None:
    await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})
    model = demo_pod.volume / "models" / "marts" / "fresh_model.sql"
    model.write_text("select customer_id from {{ ref('customers') }}\n")
    try:
        result = await rpc.call("dbt/compile", {"path": "models/marts/fresh_model.sql"})
        assert '"dev"."analytics"."customers"' in result["compiled_sql"]
    finally:
        model.unlink()


async def test_compile_refuses_paths_outside_the_project(rpc: Notes) -> None:
    with pytest.raises(RpcFailure) as failure:
        await rpc.call("dbt/compile", {"path": "../etc/passwd"})
    assert failure.value.code == -32002


async def test_a_saved_file_that_does_not_parse_leaves_the_rest_working(
    rpc: Notes, demo_pod
) -> None:
    """Half-typed Jinja, autosaved: lineage and completion keep the last good parse and say
    why it is stale; the broken file's own compile shows its error, not its old code."""
    await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})  # a good parse first
    model = demo_pod.volume / "models" / "marts" / "orders.sql"
    saved = model.read_text()
    model.write_text(saved + "\n{% if \n")
    try:
        lineage = await rpc.call(
            "dbt/lineage", {"path": "models/marts/customers.sql", "upstream": 1, "downstream": 0}
        )
        assert "model.demo_shop.stg_customers" in {n["unique_id"] for n in lineage["nodes"]}
        assert lineage["stale"]["path"] == "models/marts/orders.sql"
        assert lineage["stale"]["message"]
        catalog = await rpc.call("dbt/catalog", {})
        assert "customers" in {m["name"] for m in catalog["models"]}
        assert catalog["stale"]["path"] == "models/marts/orders.sql"
        # Another model still compiles.
        other = await rpc.call("dbt/compile", {"path": "models/marts/customers.sql"})
        assert '"dev"."analytics"."orders"' in other["compiled_sql"]
        # The broken one says what is wrong with it as saved.
        with pytest.raises(RpcFailure) as failure:
            await rpc.call("dbt/compile", {"path": "models/marts/orders.sql"})
        assert failure.value.code == -32040
    finally:
        model.write_text(saved)
    fixed = await rpc.call(
        "dbt/lineage", {"path": "models/marts/customers.sql", "upstream": 1, "downstream": 0}
    )
    assert "stale" not in fixed
