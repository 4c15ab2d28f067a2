"""The dbt profile a pod hands dbt, generated from the pod's warehouse settings.

The profile lives in a pod-private directory outside the volume (a ``profiles.yml``
committed to the repository is never read: dbt is always given ``--profiles-dir``), and
holds no secret: passwords reach dbt as ``DBT_ENV_SECRET_*`` variables, which dbt scrubs
from its logs and artifacts.

Two targets:

- ``dev``: what write commands build into. On DuckDB each developer has their own dev
  database file under the volume's reserved ``.ide/`` directory (git never tracks it), with
  the configured warehouse attached read-only under its file stem (``demo`` for the demo
  warehouse), so a shared file is never written. On PostgreSQL, the developer's schema.
- ``read``: what the warm worker compiles with. On DuckDB it is a scratch database of the
  same catalog name in the private directory, so compiling never takes the dev file's
  lock (a running ``dbt build`` holds it); on PostgreSQL it is the same as ``dev``.
- ``lint``: what SQLFluff's dbt templater compiles with (:mod:`..lint_dbt`). Like ``read``,
  but on DuckDB with a scratch database of its own (same catalog name, so relations are
  named as in ``dev``): a lint never waits for the worker's lock, nor the worker for it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from ..errors import NO_WAREHOUSE_MESSAGE

DEV_DATABASE = "dev"  # catalog name of a developer's DuckDB dev database
SECRET_PASSWORD_ENV = "DBT_ENV_SECRET_PASSWORD"  # noqa: S105 - a variable name
DEFAULT_THREADS = 4
DUCKDB_SCHEMA = "analytics"  # the dev schema in a developer's own DuckDB dev database
LINT_TARGET = "lint"


class NoWarehouse(Exception):
    """The pod has no warehouse settings dbt could use."""


@dataclass(frozen=True)
class DbtSetup:
    """Where dbt's profile is and what dbt's processes get in their environment."""

    profiles_dir: Path
    profile_name: str
    adapter: str  # "duckdb" or "postgres"
    dev_path: Path | None  # the DuckDB dev database file; None on PostgreSQL
    attach: tuple[tuple[str, str], ...] = ()  # DuckDB (path, alias) attached read-only
    env: Mapping[str, str] = field(default_factory=dict, repr=False)


def profile_name_of(project_dir: Path) -> str:
    """The profile ``dbt_project.yml`` asks for (dbt refuses a profile of another name)."""
    with open(project_dir / "dbt_project.yml", encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    name = data.get("profile") if isinstance(data, dict) else None
    return str(name) if name else str(data.get("name", "default"))


def _alias_of(path: str) -> str:
    stem = Path(path).name.split(".")[0] or "warehouse"
    return re.sub(r"\W", "_", stem)


def _duckdb_targets(
    warehouse: Mapping[str, Any], dev_path: Path, scratch: Path, lint_scratch: Path
) -> tuple[dict, dict, dict, tuple[tuple[str, str], ...]]:
    attach: list[tuple[str, str]] = []
    for extra in warehouse.get("attach") or []:
        attach.append((str(extra["path"]), str(extra.get("alias") or _alias_of(extra["path"]))))
    # ``path`` is the file plain SQL previews open: the connection's first shared database.
    if warehouse.get("path") and str(warehouse["path"]) not in (p for p, _ in attach):
        attach.insert(0, (str(warehouse["path"]), _alias_of(str(warehouse["path"]))))
    attachments = [{"path": p, "alias": a, "read_only": True} for p, a in attach]
    threads = int(warehouse.get("threads") or DEFAULT_THREADS)
    schema = str(warehouse.get("schema") or DUCKDB_SCHEMA)
    dev = {
        "type": "duckdb",
        "path": str(dev_path),
        "schema": schema,
        "threads": threads,
        "attach": attachments,
        # The writer serves previews through its own open database while it runs.
        "keep_open": True,
    }
    read = {**dev, "path": str(scratch), "threads": 1, "keep_open": False}
    lint = {**read, "path": str(lint_scratch)}
    return dev, read, lint, tuple(attach)


def _default_schema(user: str) -> str:
    return "dbt_" + re.sub(r"[^a-z0-9_]", "_", user.lower())


def describe(warehouse: Mapping[str, Any], user: str) -> dict[str, Any] | None:
    """The connection in use, for the status bar: type, database, target schema; None when
    the pod has none. Never a login or a password."""
    kind = str(warehouse.get("type", "")).lower()
    if kind == "duckdb":
        here = Path(DEV_DATABASE)
        dev, _read, _lint, attach = _duckdb_targets(warehouse, here, here, here)
        shared = [alias for _path, alias in attach]
        return {
            "type": "duckdb",
            "database": DEV_DATABASE,
            "schema": str(dev["schema"]),
            "attached": shared,
        }
    if kind in ("postgres", "postgresql"):
        return {
            "type": "postgres",
            "database": str(warehouse.get("dbname") or warehouse.get("database") or "postgres"),
            "schema": str(warehouse.get("schema") or _default_schema(user)),
            "attached": [],
        }
    return None


def _postgres_target(warehouse: Mapping[str, Any], user: str) -> tuple[dict, dict[str, str]]:
    env: dict[str, str] = {}
    target: dict[str, Any] = {
        "type": "postgres",
        "host": str(warehouse.get("host") or "localhost"),
        "port": int(warehouse.get("port") or 5432),
        "dbname": str(warehouse.get("dbname") or warehouse.get("database") or "postgres"),
        "user": str(warehouse.get("user") or user),
        "schema": str(warehouse.get("schema") or _default_schema(user)),
        "threads": int(warehouse.get("threads") or DEFAULT_THREADS),
        # Without it dbt stores the password in the profile; here it is only a reference.
        "password": "{{ env_var('" + SECRET_PASSWORD_ENV + "', '') }}",
    }
    if warehouse.get("sslmode"):
        target["sslmode"] = str(warehouse["sslmode"])
    if warehouse.get("password"):
        env[SECRET_PASSWORD_ENV] = str(warehouse["password"])
    return target, env


def write_profiles(
    warehouse: Mapping[str, Any], *, project_dir: Path, volume: Path, private_dir: Path, user: str
) -> DbtSetup:
    """Write ``profiles.yml`` into ``private_dir`` and describe the setup; raise NoWarehouse."""
    kind = str(warehouse.get("type", "")).lower()
    name = profile_name_of(project_dir)
    private_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    env: dict[str, str] = {}
    dev_path: Path | None = None
    attach: tuple[tuple[str, str], ...] = ()
    if kind == "duckdb":
        dev_dir = volume / ".ide" / "dbt"
        dev_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        dev_path = dev_dir / f"{DEV_DATABASE}.duckdb"
        scratch_dir = private_dir / "scratch"
        lint_dir = private_dir / "lint"
        for directory in (scratch_dir, lint_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
        scratch_name = f"{DEV_DATABASE}.duckdb"
        dev, read, lint, attach = _duckdb_targets(
            warehouse, dev_path, scratch_dir / scratch_name, lint_dir / scratch_name
        )
    elif kind in ("postgres", "postgresql"):
        dev, env = _postgres_target(warehouse, user)
        read = lint = dev
        kind = "postgres"
    else:
        raise NoWarehouse(NO_WAREHOUSE_MESSAGE)
    outputs = {"dev": dev, "read": read, LINT_TARGET: lint}
    profile = {name: {"target": "dev", "outputs": outputs}}
    path = private_dir / "profiles.yml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        # JSON is YAML; it keeps the generated file free of YAML's quoting surprises.
        json.dump(profile, f, indent=2)
    return DbtSetup(private_dir, name, kind, dev_path, attach, env)
