"""Rows of dbt previews and of ``dbt show`` exist only in memory and in the browser.

A sentinel that only the warehouse holds is previewed through dbt (a model, in the warm
worker), shown with ``dbt show`` (a command's process) and built into the dev database
by ``dbt build``; afterwards it is in no file of the volume (the spooled debug logs and
artifacts the gateway uploads as objects included) (but the dev database, which is
the developer's warehouse), of dbt's logs and artifacts, of the pod's private directory,
home or temp directory, nor in the pod's own output.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import duckdb

from tests.workspace.test_query import _files_containing

from .conftest import Notes, preview_to_end, run_to_done, start_pod

PROJECT = {
    "dbt_project.yml": "name: vault\nversion: '1.0'\nconfig-version: 2\nprofile: vault\n",
    "models/sources.yml": (
        "version: 2\nsources:\n  - name: w\n    database: wh\n    schema: main\n"
        "    tables:\n      - name: secrets\n"
    ),
    "models/secret_model.sql": (
        "{{ config(materialized='table') }}\nselect secret, n from {{ source('w', 'secrets') }}\n"
    ),
}


async def test_dbt_rows_never_reach_files_or_logs(tmp_path: Path) -> None:
    started = time.time() - 1
    sentinel = f"sentinel-{secrets.token_hex(12)}"
    volume, data, home, tmp = (tmp_path / d for d in ("volume", "data", "home", "tmp"))
    for directory in (volume, data, home, tmp):
        directory.mkdir()
    warehouse = data / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE TABLE secrets AS SELECT ? AS secret, 1 AS n", [sentinel])
    for name, text in PROJECT.items():
        (volume / name).parent.mkdir(parents=True, exist_ok=True)
        (volume / name).write_text(text)

    pod = start_pod(
        volume,
        {"type": "duckdb", "path": str(warehouse)},
        {"HOME": str(home), "TMPDIR": str(tmp)},
    )
    try:
        rpc = Notes(await pod.rpc())
        done, _ = await run_to_done(rpc, "build")
        assert done["success"] is True
        sql = (volume / "models/secret_model.sql").read_text()
        method, end, rows, _ = await preview_to_end(
            rpc, {"sql": sql, "path": "models/secret_model.sql"}
        )
        assert method == "query/done", end
        assert rows == [[sentinel, 1]]
        method, end, _, _ = await preview_to_end(
            rpc, {"sql": "select cast(secret as integer) from {{ ref('secret_model') }}"}
        )
        assert method == "query/error"  # an error message quoting the value stays in memory
        shown, seen = await run_to_done(rpc, "show", ["-s", "secret_model", "--output", "json"])
        assert shown["success"] is True
        # The test means something only if the sentinel did travel to the client.
        assert sentinel in str([m for m in seen if m["method"] == "dbt/log"])
        # The pod and its dbt processes got ``tmp`` as TMPDIR: the private profile is there
        # (in the launcher's private directory, ``ide-pod-*/dbt``), not on the volume.
        assert any(tmp.glob("ide-pod-*/dbt/profiles.yml"))
        assert not any(volume.rglob("profiles.yml"))
        await rpc.close()
    finally:
        pod.stop()

    dev = volume / ".ide" / "dbt" / "dev.duckdb"
    skip = {warehouse, warehouse.with_name("wh.duckdb.wal"), dev, dev.with_name("dev.duckdb.wal")}
    roots = [volume, data, home, tmp]
    assert _files_containing(sentinel.encode(), roots, started, skip) == []
    assert sentinel not in pod.log_path.read_text(errors="replace")
    assert (volume / "logs" / "dbt.log").is_file()  # the build's debug log was searched
    # So were the spooled invocations the gateway uploads as objects: the build's debug log
    # and artifacts, and the show's debug log, where its rows are left out.
    spool = volume / ".ide" / "dbt" / "spool"
    built = {p.name for p in (spool / done["invocation_id"]).iterdir()}
    assert {"invocation.json", "dbt.log", "run_results.json", "manifest.json"} <= built
    show_log = (spool / shown["invocation_id"] / "dbt.log").read_text()
    assert "ShowNode: (the rows shown are not logged)" in show_log
    assert not (spool / shown["invocation_id"] / "run_results.json").exists()
