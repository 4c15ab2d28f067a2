"""A project's warehouse connection and a developer's credentials for it: checked, stored
shape, and the settings a pod gets from both.

The connection holds what every developer of the project shares and nothing secret
(warehouse type, host, database, DuckDB files attached read-only); the credentials are
each developer's own (login, password, dev schema, threads). Both are checked here, so
the REST API, the CLI and the start-up migration refuse the same input with the same
sentence; nothing in this module does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

NO_CONNECTION = (
    "this project has no warehouse connection; an admin sets it in the project's settings"
)
TYPES = ("duckdb", "postgres")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
MAX_ATTACH = 16
MAX_THREADS = 64
DEFAULT_THREADS = 4
DEFAULT_PORT = 5432
# The catalog name of each developer's own DuckDB dev database (see workspace/dbt/profiles).
RESERVED_ALIASES = ("dev", "memory", "system", "temp", "main")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_HOST = re.compile(r"[A-Za-z0-9._:\-\[\]]{1,253}")


class InvalidSettings(ValueError):
    """Bad input for a connection or credentials; the message names the field."""


def _only(body: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidSettings(
            f"unknown field {unknown[0]!r} in {what}; allowed: {', '.join(allowed)}"
        )


def _string(body: Mapping[str, Any], name: str, *, required: bool, max_length: int) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidSettings(f"'{name}' must be a non-empty string of at most {max_length}")
    return value.strip()


def _integer(body: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSettings(f"'{name}' must be a whole number from {low} to {high}")
    return value


def alias_of(path: str) -> str:
    """The catalog name a shared DuckDB file is attached under when none is given."""
    stem = PurePosixPath(path).name.split(".")[0] or "warehouse"
    alias = re.sub(r"\W", "_", stem)
    return alias if alias[0].isalpha() or alias[0] == "_" else f"_{alias}"


def check_connection(body: Mapping[str, Any]) -> dict[str, Any]:
    """The connection in its stored shape; raises InvalidSettings naming the bad field."""
    kind = body.get("type")
    if kind not in TYPES:
        raise InvalidSettings(f"'type' must be one of {', '.join(TYPES)}, not {kind!r}")
    if kind == "duckdb":
        _only(body, ("type", "attach"), "a duckdb connection")
        return {"type": "duckdb", "attach": _check_attach(body.get("attach"))}
    _only(body, ("type", "host", "port", "database", "sslmode"), "a postgres connection")
    host = _string(body, "host", required=True, max_length=253)
    assert host is not None
    if not _HOST.fullmatch(host):
        raise InvalidSettings("'host' must be a host name or an IP address")
    database = _string(body, "database", required=True, max_length=63)
    port = _integer(body, "port", 1, 65535) or DEFAULT_PORT
    connection: dict[str, Any] = {
        "type": "postgres",
        "host": host,
        "port": port,
        "database": database,
    }
    sslmode = body.get("sslmode")
    if sslmode is not None:
        if sslmode not in SSLMODES:
            raise InvalidSettings(f"'sslmode' must be one of {', '.join(SSLMODES)}")
        connection["sslmode"] = sslmode
    return connection


def _check_attach(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ATTACH:
        raise InvalidSettings(f"'attach' must be a list of at most {MAX_ATTACH} databases")
    out: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"attach[{index}]"
        if not isinstance(item, dict):
            raise InvalidSettings(f"{where} must be an object with 'path' and 'alias'")
        _only(item, ("path", "alias", "read_only"), where)
        path = item.get("path")
        if not isinstance(path, str) or not path.startswith("/") or len(path) > 4096:
            raise InvalidSettings(f"{where}.path must be an absolute path")
        if "\0" in path or ".." in PurePosixPath(path).parts:
            raise InvalidSettings(f"{where}.path must not contain '..' or NUL")
        alias = item.get("alias")
        alias = alias_of(path) if alias is None else alias
        if not isinstance(alias, str) or not _IDENTIFIER.fullmatch(alias):
            raise InvalidSettings(
                f"{where}.alias must be letters, digits and '_' (not starting with a digit)"
            )
        if alias.lower() in RESERVED_ALIASES:
            raise InvalidSettings(f"{where}.alias {alias!r} is reserved; choose another name")
        if alias.lower() in (a["alias"].lower() for a in out):
            raise InvalidSettings(f"{where}.alias {alias!r} is used twice")
        if item.get("read_only", True) is not True:
            raise InvalidSettings(
                f"{where}.read_only must be true: shared databases are attached read-only, "
                "developers build into their own dev database"
            )
        out.append({"path": path, "alias": alias, "read_only": True})
    return out


def check_attach_paths(connection: Mapping[str, Any], data_dir: Path, allowed: Path) -> None:
    """Refuse shared files inside the gateway's data dir (its key, the volumes), except the
    demo warehouse: the local backend shows attached files to the pod read-only."""
    root = data_dir.resolve()
    for item in connection.get("attach") or ():
        path = Path(item["path"]).resolve()
        if path != allowed.resolve() and (path == root or root in path.parents):
            raise InvalidSettings(
                f"{item['path']} is inside the server's data directory; attach a file elsewhere"
            )


def check_credentials(body: Mapping[str, Any]) -> tuple[dict[str, Any], str | None, bool]:
    """(stored settings, new password or None, whether to clear the stored password).

    An absent password keeps the stored one; ``null`` or ``""`` removes it.
    """
    _only(body, ("user", "password", "schema", "threads"), "credentials")
    settings: dict[str, Any] = {}
    user = _string(body, "user", required=False, max_length=63)
    if user is not None:
        settings["user"] = user
    schema = _string(body, "schema", required=False, max_length=63)
    if schema is not None:
        if not _IDENTIFIER.fullmatch(schema):
            raise InvalidSettings(
                "'schema' must be letters, digits and '_' (not starting with a digit)"
            )
        settings["schema"] = schema
    threads = _integer(body, "threads", 1, MAX_THREADS)
    if threads is not None:
        settings["threads"] = threads
    if "password" not in body:
        return settings, None, False
    password = body["password"]
    if password is None or password == "":
        return settings, None, True
    if not isinstance(password, str) or len(password) > 1024:
        raise InvalidSettings("'password' must be a string of at most 1024 characters")
    return settings, password, False


def default_schema(username: str) -> str:
    """The dev schema a developer builds into on PostgreSQL unless they chose another."""
    return "dbt_" + re.sub(r"[^a-z0-9_]", "_", username.lower())


def defaults(connection: Mapping[str, Any] | None, username: str) -> dict[str, Any]:
    """What a developer who set nothing gets, for the account page."""
    if connection is not None and connection.get("type") == "duckdb":
        return {"user": None, "schema": "analytics", "threads": DEFAULT_THREADS}
    return {"user": username, "schema": default_schema(username), "threads": DEFAULT_THREADS}


def pod_warehouse(
    connection: Mapping[str, Any] | None,
    credentials: Mapping[str, Any],
    password: str | None,
    username: str,
) -> dict[str, Any]:
    """The pod's warehouse settings (PodEnv.warehouse): empty without a connection."""
    if connection is None:
        return {}
    threads = int(credentials.get("threads") or DEFAULT_THREADS)
    if connection["type"] == "duckdb":
        attach = [dict(a) for a in connection.get("attach") or ()]
        settings: dict[str, Any] = {"type": "duckdb", "attach": attach, "threads": threads}
        if attach:  # plain SQL previews open the first shared database
            settings["path"] = attach[0]["path"]
        if credentials.get("schema"):
            settings["schema"] = credentials["schema"]
        return settings
    settings = {
        "type": "postgres",
        "host": connection["host"],
        "port": int(connection.get("port") or DEFAULT_PORT),
        "dbname": connection["database"],
        "user": credentials.get("user") or username,
        "schema": credentials.get("schema") or default_schema(username),
        "threads": threads,
    }
    if connection.get("sslmode"):
        settings["sslmode"] = connection["sslmode"]
    if password:
        settings["password"] = password
    return settings


def from_legacy(setting: Mapping[str, Any]) -> dict[str, Any]:
    """A connection from the deprecated global ``IDE_WAREHOUSE`` setting."""
    kind = str(setting.get("type", "")).lower()
    if kind == "duckdb":
        attach = []
        if setting.get("path"):
            attach.append({"path": str(setting["path"])})
        return check_connection({"type": "duckdb", "attach": attach})
    if kind in ("postgres", "postgresql"):
        body = {
            "type": "postgres",
            "host": setting.get("host") or "localhost",
            "port": int(setting["port"]) if setting.get("port") else None,
            "database": setting.get("dbname") or setting.get("database") or "postgres",
            "sslmode": setting.get("sslmode"),
        }
        return check_connection({k: v for k, v in body.items() if v is not None})
    raise InvalidSettings(f"IDE_WAREHOUSE: 'type' must be duckdb or postgres, not {kind!r}")


def demo_connection(path: Path) -> dict[str, Any]:
    """The demo project's connection: the demo warehouse attached read-only as ``demo``."""
    return check_connection(
        {"type": "duckdb", "attach": [{"path": str(path), "alias": "demo", "read_only": True}]}
    )
