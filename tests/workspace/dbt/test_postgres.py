"""dbt through a real pod on the machine's PostgreSQL (a database per test module).

The developer builds into their own schema (``dbt_alice``); previews of dbt SQL go to the
SQL kernel with the compiled SQL; a long model is cancelled on the server within 2 s; the
password reaches dbt only as a DBT_ENV_SECRET_ variable, never the profile file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from tests.support.pg import temporary_database

from .conftest import Notes, Pod, new_id, preview_to_end, run_to_done, start_pod, wait_done

PROJECT = {
    "dbt_project.yml": "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\n",
    "models/sources.yml": (
        "version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n"
        "      - name: customers\n"
    ),
    "models/stg_customers.sql": (
        "select id, upper(name) as name from {{ source('raw', 'customers') }}\n"
    ),
    "models/customer_count.sql": (
        "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('stg_customers') }}\n"
    ),
}
SLEEPER = "{{ config(materialized='table') }}\nselect 1 as x from (select pg_sleep(120)) as s\n"
PASSWORD = "not-a-real-password-7f3a"


@pytest.fixture(scope="module")
def pg_pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pod, str]]:
    tmp = tmp_path_factory.mktemp("pg")
    with temporary_database(tmp) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA raw")
            conn.execute("CREATE TABLE raw.customers AS SELECT i AS id, 'c' || i AS name "
                         "FROM generate_series(1, 1200) AS i")  # fmt: skip
        volume = tmp / "volume"
        for name, text in PROJECT.items():
            (volume / name).parent.mkdir(parents=True, exist_ok=True)
            (volume / name).write_text(text)
        parsed = urlparse(url)
        warehouse = {
            "type": "postgres", "host": parsed.hostname, "port": parsed.port or 5432,
            "dbname": parsed.path.lstrip("/"), "user": parsed.username or "postgres",
            "password": PASSWORD,
        }  # fmt: skip
        pod = start_pod(volume, warehouse, {"TMPDIR": str(tmp)})
        try:
            yield pod, url
        finally:
            pod.stop()


async def test_build_compile_and_preview_on_postgres(pg_pod: tuple[Pod, str]) -> None:
    pod, url = pg_pod
    rpc = Notes(await pod.rpc())
    try:
        done, seen = await run_to_done(rpc, "build")
        assert done["success"] is True, [m["params"].get("msg") for m in seen]
        with psycopg.connect(url) as conn:
            (n,) = conn.execute("select n from dbt_alice.customer_count").fetchone()
        assert n == 1200
        compiled = await rpc.call("dbt/compile", {"path": "models/customer_count.sql"})
        assert '"dbt_alice"."stg_customers"' in compiled["compiled_sql"]
        method, end, rows, _ = await preview_to_end(
            rpc,
            {
                "sql": "select * from {{ ref('stg_customers') }} order by id",
                "path": "models/customer_count.sql",
                "limit": 10,
            },  # fmt: skip
        )
        assert method == "query/done", end
        assert rows[0] == [1, "C1"] and len(rows) == 10 and end["truncated"] is True
        assert '"dbt_alice"."stg_customers"' in end["compiled_sql"]
        # The password is in no file the pod wrote for dbt.
        under = Path(pod.volume.parent)
        profiles = [p for p in under.rglob("profiles.yml") if pod.volume not in p.parents]
        assert profiles and all(PASSWORD not in p.read_text() for p in profiles)
        assert "DBT_ENV_SECRET_PASSWORD" in profiles[0].read_text()
    finally:
        await rpc.close()


async def test_cancel_of_a_long_model_on_postgres(pg_pod: tuple[Pod, str]) -> None:
    pod, url = pg_pod
    model = pod.volume / "models" / "sleeper.sql"
    model.write_text(SLEEPER)
    rpc = Notes(await pod.rpc())
    try:
        invocation_id = new_id()
        await rpc.call("dbt/run", {"invocation_id": invocation_id, "command": "run",
                                   "args": ["-s", "sleeper"]})  # fmt: skip
        deadline = time.monotonic() + 60
        while not _sleeping(url):
            assert time.monotonic() < deadline, "the model never reached the server"
            time.sleep(0.1)
        started = time.monotonic()
        await rpc.call("dbt/cancel", {"invocation_id": invocation_id})
        done, _ = await wait_done(rpc, invocation_id, timeout=10)
        assert time.monotonic() - started < 2.0
        assert done["cancelled"] is True
        deadline = time.monotonic() + 5
        while _sleeping(url):  # the statement was cancelled on the server, not abandoned
            assert time.monotonic() < deadline, "pg_sleep still runs on the server"
            time.sleep(0.1)
    finally:
        model.unlink()
        await rpc.close()
    rpc = Notes(await pod.rpc())
    try:
        done, _ = await run_to_done(rpc, "run", ["-s", "stg_customers"])
        assert done["success"] is True
    finally:
        await rpc.close()


def _sleeping(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where query like '%pg_sleep(120)%' "
            "and state = 'active' and pid <> pg_backend_pid()"
        ).fetchone()
    return bool(row and row[0])
