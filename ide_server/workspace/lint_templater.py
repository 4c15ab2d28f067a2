"""Which SQLFluff templater a lint runs with, and how the dbt templater gets the pod's profile.

Which: the one the project's ``.sqlfluff`` names; when it names none, the dbt templater if
the project is a dbt project and the pod has a warehouse (so ``ref('x')`` lints as the
relation it compiles to, as in dbt Cloud), else SQLFluff's default, Jinja. A ``.sqlfluff``
asking for dbt where dbt cannot run (no ``dbt_project.yml``, no warehouse) gets Jinja and
a notice saying why. ``format/file`` formats the editor's text, which SQLFluff's dbt
templater refuses ("does not support stdin input"): Format uses Jinja instead of dbt.

The profile: the pod's own (:mod:`.dbt.profiles`, target ``lint``), in its private
directory. An extra config file there, given with ``--config``, overrides whatever
``profiles_dir``, ``project_dir`` or ``target_path`` the project's ``.sqlfluff`` sets, so a
``profiles.yml`` committed to the repository is never read and dbt writes nothing onto the
volume. Passwords reach dbt as environment variables only (:func:`.dbt.processes.dbt_env`).

When dbt cannot compile (broken Jinja, a ref to nothing, no connection), :func:`dbt_failure`
says so in one sentence, and the lint runs again with Jinja (see :mod:`.lint`).
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from .dbt.processes import dbt_env
from .dbt.profiles import LINT_TARGET, DbtSetup, NoWarehouse
from .dbt.service import NotDbtProject

DEFAULT_DIALECT = "ansi"
_ADAPTER_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres"}
_DETAIL_LIMIT = 600
# dbt's advice, which a user of the IDE cannot follow as written; and exception class names.
_DBT_ADVICE = re.compile(r"Consider\s+running\s+`dbt debug`.*?information from dbt\.\s*", re.S)
_CLASS_NAME = re.compile(r"\b[\w.]+(?:Error|Exception):\s*")
# What SQLFluff logs for a file the dbt templater does not template (stderr, one a line).
_SKIPPED = re.compile(
    r"^WARNING\s+(?:File (?P<missing>.+?) was not found in dbt project"
    r"|Skipped file (?P<skipped>.+?) because (?P<why>.+?))\s*$",
    re.M,
)


@dataclass(frozen=True)
class Templating:
    """How one SQLFluff run templates: its name, its flags, its environment, and why."""

    templater: str
    options: list[str]
    env: dict[str, str] = field(repr=False)
    notice: str | None = None


def _settings(root: Path) -> Mapping[str, str]:
    config = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        config.read(root / ".sqlfluff", encoding="utf-8")
    except configparser.Error:
        return {}
    return config["sqlfluff"] if config.has_section("sqlfluff") else {}


def _dialect_options(settings: Mapping[str, str], warehouse: Mapping[str, Any]) -> list[str]:
    if settings.get("dialect"):
        return []
    kind = str(warehouse.get("type", "")).lower()
    return ["--dialect", _ADAPTER_DIALECTS.get(kind, DEFAULT_DIALECT)]


def _dbt_setup(workspace: Any) -> tuple[DbtSetup | None, str]:
    """The pod's dbt setup, or None and why dbt cannot run here."""
    try:
        return workspace.dbt.setup(), ""
    except (NotDbtProject, NoWarehouse) as error:
        return None, str(error)
    except (OSError, yaml.YAMLError, ValueError) as error:
        return None, f"dbt_project.yml cannot be read ({error})"


def choose(workspace: Any, *, from_stdin: bool = False) -> Templating:
    """The templating of a lint (or, ``from_stdin``, a format) of the project in ``workspace``."""
    root = Path(workspace.root)
    settings = _settings(root)
    dialect = _dialect_options(settings, workspace.config.warehouse)
    asked = (settings.get("templater") or "").strip()
    if asked and asked != "dbt":
        return Templating(asked, dialect, dbt_env({}))
    if from_stdin:
        return Templating("jinja", [*dialect, "--templater", "jinja"], dbt_env({}))
    setup, why_not = _dbt_setup(workspace)
    if setup is None:
        notice = (
            f"The dbt templater cannot run: {why_not}. The Jinja templater ran." if asked else None
        )
        return Templating("jinja", [*dialect, "--templater", "jinja"], dbt_env({}), notice)
    config = _write_dbt_config(root, setup)
    return Templating("dbt", [*dialect, "--config", str(config)], dbt_env(setup.env))


def jinja_instead(templating: Templating, notice: str) -> Templating:
    """The same run with the Jinja templater (and without the dbt override), saying why."""
    options = list(templating.options)
    if "--config" in options:
        at = options.index("--config")
        del options[at : at + 2]
    return Templating("jinja", [*options, "--templater", "jinja"], dbt_env({}), notice)


def _write_dbt_config(root: Path, setup: DbtSetup) -> Path:
    """The ``--config`` file pointing the dbt templater at the pod's profile and private dirs."""
    lint_dir = setup.profiles_dir / "lint"
    lint_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = configparser.ConfigParser(interpolation=None)
    config["sqlfluff"] = {"templater": "dbt"}
    config["sqlfluff:templater:dbt"] = {
        "project_dir": str(root),
        "profiles_dir": str(setup.profiles_dir),
        "profile": setup.profile_name,
        "target": LINT_TARGET,
        "target_path": str(lint_dir / "target"),
    }
    path = lint_dir / "sqlfluff.cfg"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        config.write(f)
    return path


def _sentence(text: str) -> str:
    text = _CLASS_NAME.sub("", _DBT_ADVICE.sub("", text))
    text = " ".join(text.split()).removeprefix("User Error: ")
    return text[:_DETAIL_LIMIT]


def dbt_failure(reports: list[dict[str, Any]] | None, stderr: str) -> str | None:
    """Why the dbt templater could not template the project, or None if it could.

    SQLFluff stops with no report when dbt cannot load the project (a parse error, a ref to
    no model, a missing profile), and reports a fatal ``TMP`` problem when dbt cannot connect.
    """
    if reports is None:
        lines = [line for line in stderr.splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if "Error" in line), len(lines) - 1)
        return _sentence("\n".join(lines[start:])) or "SQLFluff gave no report"
    for report in reports:
        for violation in report.get("violations", []):
            description = str(violation.get("description", ""))
            if violation.get("code") == "TMP" and "dbt tried to connect" in description:
                return _sentence(description)
    return None


def skipped_by_dbt(stderr: str) -> dict[str, str]:
    """Files the dbt templater did not template, each with why (as SQLFluff logged them)."""
    skipped = {}
    for match in _SKIPPED.finditer(stderr):
        if match["missing"]:
            skipped[match["missing"]] = "not part of the dbt project"
        else:
            skipped[match["skipped"]] = match["why"]
    return skipped
