"""A project without dbt_project.yml: dbt/* say so; plain SQL previews still work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import RpcFailure

from .conftest import Notes, Pod, new_id, preview_to_end, start_pod


@pytest.fixture(scope="module")
def plain_pod(tmp_path_factory: pytest.TempPathFactory, demo_warehouse: Path) -> Iterator[Pod]:
    volume = tmp_path_factory.mktemp("plain") / "volume"
    volume.mkdir()
    (volume / "query.sql").write_text("select 1\n")
    pod = start_pod(volume, {"type": "duckdb", "path": str(demo_warehouse)})
    yield pod
    pod.stop()


async def test_dbt_methods_answer_not_a_dbt_project(plain_pod: Pod) -> None:
    rpc = Notes(await plain_pod.rpc())
    try:
        calls = {
            "dbt/compile": {"path": "query.sql"},
            "dbt/run": {"invocation_id": new_id(), "command": "build"},
            "dbt/history": {},
            "dbt/lineage": {"path": "query.sql"},
            "dbt/catalog": {},
        }
        for method, params in calls.items():
            with pytest.raises(RpcFailure) as failure:
                await rpc.call(method, params)
            assert failure.value.code == -32042, method
            assert "this project is not a dbt project" in failure.value.error["message"]
        with pytest.raises(RpcFailure) as failure:
            await rpc.call("query/preview", {"query_id": new_id(), "sql": "select {{ 1 }}"})
        assert failure.value.code == -32042
        # Plain SQL, even with a path, goes to the SQL kernel as before.
        method, end, rows, _ = await preview_to_end(
            rpc, {"sql": "select count(*) from raw.products", "path": "query.sql"}
        )
        assert method == "query/done", end
        assert rows == [[120]] and "compiled_sql" not in end
    finally:
        await rpc.close()
