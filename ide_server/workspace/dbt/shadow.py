"""The warm worker's picture of the dev database (DuckDB): its relations, without rows.

The worker compiles against a scratch database of the dev database's name, never the dev
file itself (a `dbt build` may be writing it; see :mod:`.service`). For a node compiled in
its own context that scratch must know what the dev database holds: `is_incremental()` is
true only when `{{ this }}` exists there as a table, and macros such as
`adapter.get_columns_in_relation(this)` read its columns. So, whenever the dev file is free
(no command holds it) and has changed since, the worker copies the names, kinds and
column types of its relations into the scratch database — empty tables and views of the
same shape, no data — and compiles against that picture. While a build runs, the last
picture stands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "main"})


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Shadow:
    def __init__(self, dev_path: Path | None, scratch_path: Path | None, catalog: str) -> None:
        self._dev = dev_path
        self._scratch = scratch_path
        self._catalog = catalog
        self._copied: tuple[Any, ...] | None = None

    def _stamp(self) -> tuple[Any, ...] | None:
        if self._dev is None:
            return None
        stamp: list[tuple[int, int] | None] = []
        for path in (self._dev, Path(f"{self._dev}.wal")):
            try:
                st = os.stat(path)
            except OSError:
                stamp.append(None)
                continue
            stamp.append((st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def refresh(self) -> bool:
        """Copy the dev database's relations if it changed; True if the scratch changed.

        Call only while no command holds the dev file (the pod says so in the request).
        """
        if self._dev is None or self._scratch is None:
            return False
        stamp = self._stamp()
        if stamp == self._copied:
            return False
        try:
            relations = self._read_dev() if self._dev.is_file() else {}
            self._write_scratch(relations)
        except duckdb.IOException:
            # A `dbt compile` through dbt/run has the scratch file open right now: the
            # compile goes ahead with the last picture, the next one copies again.
            return False
        self._copied = stamp
        return True

    def _read_dev(self) -> dict[tuple[str, str], tuple[str, list[tuple[str, str]]]]:
        conn = duckdb.connect(str(self._dev), read_only=True)
        try:
            kinds = dict(
                ((schema, name), kind)
                for schema, name, kind in conn.execute(
                    "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                    "WHERE table_catalog = current_database()"
                ).fetchall()
            )
            columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for schema, name, column, data_type in conn.execute(
                "SELECT table_schema, table_name, column_name, data_type "
                "FROM information_schema.columns WHERE table_catalog = current_database() "
                "ORDER BY table_schema, table_name, ordinal_position"
            ).fetchall():
                columns.setdefault((schema, name), []).append((column, data_type))
        finally:
            conn.close()
        return {key: (kind, columns.get(key, [])) for key, kind in kinds.items()}

    def _write_scratch(
        self, relations: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]]
    ) -> None:
        assert self._scratch is not None
        conn = duckdb.connect(str(self._scratch))
        try:
            for (schema,) in conn.execute(
                "SELECT schema_name FROM information_schema.schemata "
                "WHERE catalog_name = current_database()"
            ).fetchall():
                if schema not in _SYSTEM_SCHEMAS:
                    conn.execute(f"DROP SCHEMA {_ident(schema)} CASCADE")
            for schema in sorted({s for s, _ in relations}):
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
            for (schema, name), (kind, columns) in sorted(relations.items()):
                target = f"{_ident(schema)}.{_ident(name)}"
                if not columns:
                    continue
                if kind == "VIEW":
                    select = ", ".join(
                        f"CAST(NULL AS {data_type}) AS {_ident(c)}" for c, data_type in columns
                    )
                    statement = f"CREATE OR REPLACE VIEW {target} AS SELECT {select} WHERE false"
                else:
                    defs = ", ".join(f"{_ident(c)} {data_type}" for c, data_type in columns)
                    statement = f"CREATE OR REPLACE TABLE {target} ({defs})"
                try:
                    conn.execute(statement)
                except duckdb.Error:  # a type this DuckDB cannot spell back: text will do
                    defs = ", ".join(f"{_ident(c)} VARCHAR" for c, _ in columns)
                    conn.execute(f"CREATE OR REPLACE TABLE {target} ({defs})")
            conn.execute("CHECKPOINT")
        finally:
            conn.close()
