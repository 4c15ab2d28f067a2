"""lint/run with SQLFluff's dbt templater in a real pod, and its fallbacks to Jinja.

RF06 (unnecessary quoted identifier) with ``ignore_templated_areas = False`` reports each
part of the relation ``{{ ref() }}`` rendered to, so the problems show what the templater
made of it: ``"dev"."analytics"."stg_orders"`` with dbt, plain ``stg_orders`` with Jinja.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Notes, Pod, copy_demo_project, start_pod

pytestmark = pytest.mark.timeout(400)

PROBE = "models/marts/lint_probe.sql"
# The project's own .sqlfluff names no templater, and points dbt at a profile of its own,
# which the pod overrides (the volume's profiles.yml would fail: see demo_pod).
SQLFLUFF = (
    "[sqlfluff]\ndialect = duckdb\nrules = RF06\nignore_templated_areas = False\n\n"
    "[sqlfluff:templater:dbt]\nprofiles_dir = .\n"
)
BOGUS_PROFILE = (
    "demo:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n"
    "      host: 192.0.2.1\n      user: x\n      password: x\n      dbname: x\n"
    "      schema: x\n      port: 1\n      threads: 1\n"
)


def _lint_volume(volume: Path) -> Path:
    copy_demo_project(volume)
    (volume / ".sqlfluff").write_text(SQLFLUFF)
    (volume / "profiles.yml").write_text(BOGUS_PROFILE)
    (volume / PROBE).write_text("select order_id from {{ ref('stg_orders') }}\n")
    (volume / "scratch.sql").write_text('select "a" from t\n')
    return volume


@pytest.fixture(scope="module")
def lint_pod(tmp_path_factory: pytest.TempPathFactory, demo_warehouse: Path) -> Iterator[Pod]:
    volume = _lint_volume(tmp_path_factory.mktemp("lint") / "volume")
    pod = start_pod(volume, {"type": "duckdb", "path": str(demo_warehouse)})
    yield pod
    pod.stop()


async def lint(pod: Pod, paths: list[str]) -> dict:
    rpc = Notes(await pod.rpc())
    try:
        return await rpc.call("lint/run", {"paths": paths}, timeout=300)
    finally:
        await rpc.close()


def quoted(result: dict, path: str) -> list[str]:
    return [
        problem["message"]
        for report in result["files"]
        if report["path"] == path
        for problem in report["problems"]
        if problem["code"] == "RF06"
    ]


async def test_ref_lints_as_the_relation_dbt_compiles_it_to(lint_pod: Pod) -> None:
    result = await lint(lint_pod, [PROBE, "scratch.sql"])
    assert result["tool"] == "sqlfluff" and result["templater"] == "dbt", result
    assert quoted(result, PROBE) == [
        'Unnecessary quoted identifier "dev".',
        'Unnecessary quoted identifier "analytics".',
        'Unnecessary quoted identifier "stg_orders".',
    ]
    # A file dbt does not know is linted all the same, by Jinja, and named.
    assert quoted(result, "scratch.sql") == ['Unnecessary quoted identifier "a".']
    assert result["notice"] == (
        "The dbt templater skipped these, so the Jinja templater linted them: "
        "scratch.sql (not part of the dbt project)."
    )
    # dbt wrote its target directory in the pod's private directory, not onto the volume.
    assert not (lint_pod.volume / "target").exists()


async def test_a_project_dbt_cannot_compile_is_linted_with_jinja(lint_pod: Pod) -> None:
    broken = lint_pod.volume / "models" / "marts" / "lint_broken.sql"
    broken.write_text("select * from {{ ref('no_such_model') }}\n")
    try:
        result = await lint(lint_pod, [PROBE])
    finally:
        broken.unlink()
    assert result["templater"] == "jinja", result
    assert result["notice"].startswith("dbt could not compile the project, so the Jinja")
    assert "depends on a node named 'no_such_model'" in result["notice"]
    assert "lint_broken.sql" in result["notice"]
    # Jinja renders ref('stg_orders') as the bare name: nothing quoted.
    assert quoted(result, PROBE) == []
    # Broken Jinja too; and once the project compiles again, dbt is back.
    broken.write_text("select * from {{ ref('stg_orders' }}\n")
    try:
        result = await lint(lint_pod, [PROBE])
    finally:
        broken.unlink()
    assert result["templater"] == "jinja" and "expected ')'" in result["notice"], result
    result = await lint(lint_pod, [PROBE])
    assert result["templater"] == "dbt" and result["notice"] is None, result
    assert len(quoted(result, PROBE)) == 3


async def test_no_connection_falls_back_to_jinja(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    volume = _lint_volume(tmp_path_factory.mktemp("lint-pg") / "volume")
    # Nothing listens on port 1: dbt-postgres cannot connect when it compiles.
    warehouse = {"type": "postgres", "host": "127.0.0.1", "port": 1, "dbname": "x", "user": "x"}
    pod = start_pod(volume, warehouse)
    try:
        result = await lint(pod, [PROBE])
    finally:
        pod.stop()
    assert result["templater"] == "jinja", result
    assert "dbt tried to connect to the database and failed" in result["notice"]
    assert "Connection refused" in result["notice"]
    assert quoted(result, PROBE) == []
