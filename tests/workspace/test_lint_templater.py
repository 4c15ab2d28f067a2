"""Which templater a lint or a format runs with (the runs themselves: dbt/test_lint_templater)."""

from __future__ import annotations

import configparser
from pathlib import Path

from ide_server.workspace.config import PodConfig
from ide_server.workspace.lint_templater import choose
from ide_server.workspace.registry import MethodRegistry
from ide_server.workspace.workspace import Workspace

DUCKDB = {"type": "duckdb", "path": "/data/demo.duckdb"}


def _workspace(root: Path, warehouse: dict, sqlfluff: str, dbt: bool = True) -> Workspace:
    root.mkdir()
    (root / ".sqlfluff").write_text(sqlfluff)
    if dbt:
        (root / "dbt_project.yml").write_text("name: p\nprofile: shop\nconfig-version: 2\n")
    config = PodConfig.from_env({"IDE_POD_ROOT": str(root), "IDE_POD_USER": "alice"})
    return Workspace(config=config.replace(warehouse=warehouse), registry=MethodRegistry())


def test_dbt_when_the_project_names_no_templater(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "p", DUCKDB, "[sqlfluff]\n")
    templating = choose(workspace)
    assert templating.templater == "dbt" and templating.notice is None
    assert templating.options[:2] == ["--dialect", "duckdb"]  # the warehouse's dialect
    config_file = Path(templating.options[templating.options.index("--config") + 1])
    assert workspace.root not in config_file.parents
    config = configparser.ConfigParser(interpolation=None)
    config.read(config_file)
    dbt = config["sqlfluff:templater:dbt"]
    assert dbt["profile"] == "shop" and dbt["target"] == "lint"
    assert dbt["project_dir"] == str(workspace.root)
    assert (Path(dbt["profiles_dir"]) / "profiles.yml").is_file()
    assert workspace.root not in Path(dbt["target_path"]).parents
    # Format reads the editor's text, which the dbt templater refuses.
    assert choose(workspace, from_stdin=True).templater == "jinja"


def test_the_templater_the_project_names(tmp_path: Path) -> None:
    workspace = _workspace(
        tmp_path / "p", DUCKDB, "[sqlfluff]\ndialect = ansi\ntemplater = placeholder\n"
    )
    templating = choose(workspace)
    assert (templating.templater, templating.options) == ("placeholder", [])
    assert templating.notice is None


def test_dbt_asked_for_where_dbt_cannot_run(tmp_path: Path) -> None:
    asked = "[sqlfluff]\ntemplater = dbt\n"
    plain = choose(_workspace(tmp_path / "plain", DUCKDB, asked, dbt=False))
    assert plain.templater == "jinja" and plain.options[-2:] == ["--templater", "jinja"]
    assert plain.notice == (
        "The dbt templater cannot run: this project is not a dbt project "
        "(it has no dbt_project.yml). The Jinja templater ran."
    )
    unconnected = choose(_workspace(tmp_path / "nowh", {}, asked))
    assert unconnected.templater == "jinja" and unconnected.options[:2] == ["--dialect", "ansi"]
    assert unconnected.notice is not None and "no warehouse connection" in unconnected.notice
    # Not asked for: Jinja, SQLFluff's default, without a word.
    assert choose(_workspace(tmp_path / "quiet", {}, "[sqlfluff]\n")).notice is None
