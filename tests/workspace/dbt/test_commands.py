"""The dbt/run allow-list and the generated profile, without a pod."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ide_server.workspace.dbt.commands import BadArgs, check_command
from ide_server.workspace.dbt.profiles import NoWarehouse, write_profiles


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "a", "b+", "--exclude", "c", "--full-refresh", "--vars", "{x: 1}"],
        ["--select=tag:nightly", "--fail-fast", "--threads", "2"],
        ["--target-path", "sub/target"],
    ],
)
def test_allowed_arguments_pass_unchanged(args: list[str], tmp_path: Path) -> None:
    assert check_command("build", args, tmp_path).args == tuple(args)


@pytest.mark.parametrize(
    ("command", "args", "named"),
    [
        ("rm", [], "unknown dbt command"),
        ("run", ["--profiles-dir", "/tmp"], "--profiles-dir"),
        ("run", ["--project-dir=/etc"], "--project-dir"),
        ("run", ["--target", "prod"], "--target"),
        ("run", ["--target-path", "../../x"], "--target-path"),
        ("run", ["--log-path=/var/log"], "--log-path"),
        ("run", ["--state", "/elsewhere"], "--state"),
        ("run", ["--threads"], "--threads needs a value"),
        ("run", ["--macro-debugging"], "--macro-debugging"),
        ("run", ["stray"], "stray"),
    ],
)
def test_refused_arguments_are_named(
    command: str, args: list[str], named: str, tmp_path: Path
) -> None:
    with pytest.raises(BadArgs, match=named.replace("+", r"\+")):
        check_command(command, args, tmp_path)


def test_a_symlink_cannot_carry_the_target_path_out(tmp_path: Path) -> None:
    project, outside = tmp_path / "p", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "out").symlink_to(outside)
    with pytest.raises(BadArgs, match="inside the project"):
        check_command("run", ["--target-path", "out/target"], project)


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "volume"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: p\nprofile: shop\nconfig-version: 2\n")
    return project


def test_postgres_password_only_in_the_environment(tmp_path: Path) -> None:
    project = _project(tmp_path)
    setup = write_profiles(
        {"type": "postgres", "host": "db", "dbname": "dw", "password": "s3cret-pw"},
        project_dir=project, volume=project, private_dir=tmp_path / "private", user="Alice.B",
    )  # fmt: skip
    text = (setup.profiles_dir / "profiles.yml").read_text()
    assert "s3cret-pw" not in text
    assert setup.env == {"DBT_ENV_SECRET_PASSWORD": "s3cret-pw"}
    dev = yaml.safe_load(text)["shop"]["outputs"]["dev"]
    assert dev["schema"] == "dbt_alice_b" and dev["host"] == "db"
    assert (setup.profiles_dir / "profiles.yml").stat().st_mode & 0o077 == 0
    assert project not in setup.profiles_dir.parents


def test_duckdb_dev_database_in_the_reserved_dir_warehouse_read_only(tmp_path: Path) -> None:
    project = _project(tmp_path)
    setup = write_profiles(
        {"type": "duckdb", "path": "/data/demo.duckdb"},
        project_dir=project, volume=project, private_dir=tmp_path / "private", user="alice",
    )  # fmt: skip
    outputs = yaml.safe_load((setup.profiles_dir / "profiles.yml").read_text())["shop"]["outputs"]
    assert outputs["dev"]["path"] == str(project / ".ide" / "dbt" / "dev.duckdb")
    assert outputs["dev"]["attach"] == [
        {"path": "/data/demo.duckdb", "alias": "demo", "read_only": True}
    ]
    # The worker compiles against a scratch database of the same name, outside the volume.
    assert Path(outputs["read"]["path"]).name == "dev.duckdb"
    assert project not in Path(outputs["read"]["path"]).parents
    # The linter's is another file of that name, so neither waits for the other's lock.
    assert Path(outputs["lint"]["path"]).name == "dev.duckdb"
    assert outputs["lint"]["path"] != outputs["read"]["path"]
    assert project not in Path(outputs["lint"]["path"]).parents


def test_no_warehouse_is_a_sentence(tmp_path: Path) -> None:
    project = _project(tmp_path)
    with pytest.raises(NoWarehouse, match="no warehouse connection"):
        write_profiles({}, project_dir=project, volume=project,
                       private_dir=tmp_path / "p", user="a")  # fmt: skip


def test_a_connections_shared_files_are_attached_once_under_their_aliases(tmp_path: Path) -> None:
    from ide_server.workspace.dbt.profiles import describe

    project = _project(tmp_path)
    # What the gateway assembles from a DuckDB connection: ``path`` is the first file again.
    warehouse = {
        "type": "duckdb",
        "path": "/srv/shop.duckdb",
        "attach": [
            {"path": "/srv/shop.duckdb", "alias": "demo", "read_only": True},
            {"path": "/srv/fx.duckdb", "alias": "rates", "read_only": True},
        ],
        "threads": 2,
    }
    setup = write_profiles(warehouse, project_dir=project, volume=project,
                           private_dir=tmp_path / "p", user="alice")  # fmt: skip
    assert setup.attach == (("/srv/shop.duckdb", "demo"), ("/srv/fx.duckdb", "rates"))
    assert describe(warehouse, "alice") == {
        "type": "duckdb", "database": "dev", "schema": "analytics", "attached": ["demo", "rates"],
    }  # fmt: skip
    postgres = {"type": "postgres", "host": "db", "dbname": "sales", "user": "a", "password": "s"}
    assert describe(postgres, "Alice.B") == {
        "type": "postgres", "database": "sales", "schema": "dbt_alice_b", "attached": [],
    }  # fmt: skip
    assert describe({}, "alice") is None
