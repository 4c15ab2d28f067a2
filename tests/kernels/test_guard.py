"""The guard: which statements may be previewed, and what the row cap returns.

Cap semantics are checked against the real warehouses: the guarded query must return
exactly the first ``cap`` rows the unguarded query would return, in the same order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from kernels.sql.guard import MAX_ROW_CAP, QueryRefused, guard, validate_cap

ACCEPTED = [
    # (warehouse dialect, source dialect or None, sql)
    ("duckdb", None, "SELECT 1"),
    ("duckdb", None, "select n from nums order by n limit 10 offset 5"),
    ("duckdb", None, "WITH x AS (SELECT n FROM nums) SELECT * FROM x"),
    ("duckdb", None, "SELECT n FROM nums UNION ALL SELECT n FROM nums"),
    ("duckdb", None, "SELECT n FROM nums INTERSECT SELECT 1"),
    ("duckdb", None, "SELECT n FROM nums EXCEPT SELECT 1"),
    ("duckdb", None, "VALUES (1, 'a'), (2, 'b')"),
    ("duckdb", None, "FROM nums"),
    ("duckdb", None, "DESCRIBE nums"),
    ("duckdb", None, "SUMMARIZE nums"),
    ("duckdb", None, "SHOW TABLES"),
    ("duckdb", None, "(SELECT n FROM nums ORDER BY n LIMIT 3)"),
    ("duckdb", None, "SELECT 1;"),
    ("duckdb", None, "-- a comment\nSELECT 1 /* and another */"),
    ("postgres", None, "SELECT n FROM nums FETCH FIRST 3 ROWS ONLY"),
    ("postgres", None, "TABLE nums"),
    ("postgres", None, "SELECT * FROM generate_series(1, 3)"),
    (
        "postgres",
        None,
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT i FROM r",
    ),
    ("duckdb", "snowflake", "SELECT TOP 3 n, IFF(n > 1, 'big', 'small') FROM nums"),
    ("postgres", "bigquery", "SELECT SAFE_CAST(n AS STRING) FROM `nums`"),
    ("duckdb", "bigquery", "SELECT * FROM nums QUALIFY ROW_NUMBER() OVER (ORDER BY n) = 1"),
]

REFUSED = [
    # (warehouse dialect, source dialect or None, sql, words the message must name)
    ("duckdb", None, "INSERT INTO nums VALUES (1, 'x')", "INSERT"),
    ("duckdb", None, "UPDATE nums SET n = 1", "UPDATE"),
    ("duckdb", None, "DELETE FROM nums", "DELETE"),
    ("duckdb", None, "CREATE TABLE x AS SELECT 1", "CREATE TABLE"),
    ("duckdb", None, "CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
    ("duckdb", None, "DROP TABLE nums", "DROP TABLE"),
    ("duckdb", None, "ALTER TABLE nums ADD COLUMN x INT", "ALTER"),
    ("duckdb", None, "ATTACH '/tmp/other.duckdb' AS other", "ATTACH"),
    ("duckdb", None, "DETACH other", "DETACH"),
    ("duckdb", None, "COPY nums TO '/tmp/out.csv'", "COPY"),
    ("duckdb", None, "SET threads = 1", "SET"),
    ("duckdb", None, "PRAGMA version", "PRAGMA"),
    ("duckdb", None, "INSTALL httpfs", "INSTALL"),
    ("duckdb", None, "LOAD httpfs", "LOAD"),
    ("duckdb", None, "CALL pragma_version()", "CALL"),
    ("duckdb", None, "CHECKPOINT", "CHECKPOINT"),
    ("duckdb", None, "USE other", "USE"),
    ("duckdb", None, "EXPLAIN ANALYZE SELECT 1", "EXPLAIN"),
    ("duckdb", None, "SELECT 1; SELECT 2", "2 (SELECT, SELECT)"),
    ("duckdb", None, "SELECT 1; DROP TABLE nums", "DROP TABLE"),
    ("duckdb", None, "", "no SQL statement"),
    ("duckdb", None, " ;; ", "no SQL statement"),
    ("postgres", None, "BEGIN", "BEGIN"),
    ("postgres", None, "TRUNCATE nums", "TRUNCATE"),
    ("postgres", None, "GRANT SELECT ON nums TO public", "GRANT"),
    ("postgres", None, "VACUUM nums", "VACUUM"),
    ("postgres", None, "SELECT * INTO copy_of_nums FROM nums", "SELECT ... INTO"),
    ("postgres", None, "SELECT * FROM nums FOR UPDATE", "FOR UPDATE"),
    ("postgres", None, "WITH d AS (DELETE FROM nums RETURNING *) SELECT * FROM d", "DELETE"),
    ("postgres", None, "WITH i AS (INSERT INTO nums VALUES (1) RETURNING *) SELECT 1", "INSERT"),
    ("postgres", None, "DESCRIBE nums", "DESCRIBE"),
    ("postgres", None, "MERGE INTO nums USING nums AS s ON true WHEN MATCHED THEN DELETE", "MERGE"),
    ("duckdb", "snowflake", "CREATE OR REPLACE TABLE x AS SELECT 1", "CREATE TABLE"),
    ("postgres", "bigquery", "DELETE FROM `nums` WHERE true", "DELETE"),
]


@pytest.mark.parametrize(("dialect", "source", "sql"), ACCEPTED)
def test_accepted(dialect: str, source: str | None, sql: str) -> None:
    guarded = guard(sql, dialect, source_dialect=source)
    assert guarded.sql
    assert guarded.source_sql == sql


@pytest.mark.parametrize(("dialect", "source", "sql", "named"), REFUSED)
def test_refused_names_what(dialect: str, source: str | None, sql: str, named: str) -> None:
    with pytest.raises(QueryRefused) as info:
        guard(sql, dialect, source_dialect=source)
    assert named in info.value.message


def test_syntax_error_has_position() -> None:
    with pytest.raises(QueryRefused) as info:
        guard("SELECT n\nFROM nums WHERE (", "duckdb")
    assert info.value.message.startswith("syntax error")
    assert info.value.position is not None
    assert info.value.position.to_json() == {"line": 2, "column": 17}


def test_syntax_error_message_is_readable() -> None:
    with pytest.raises(QueryRefused) as info:
        guard("SELECT FROM WHERE", "duckdb")
    assert "<Token" not in info.value.message


def test_transpiles_to_the_warehouse_dialect() -> None:
    guarded = guard(
        "SELECT TOP 3 IFF(n > 1, 'a', 'b') FROM nums", "duckdb", source_dialect="snowflake"
    )
    assert "LIMIT 3" in guarded.sql
    assert "IFF" not in guarded.sql.upper()


@pytest.mark.parametrize("bad", [0, -1, MAX_ROW_CAP + 1, True, 1.5])
def test_cap_out_of_range(bad: Any) -> None:
    with pytest.raises(ValueError):
        validate_cap(bad)


def test_cap_default_and_max() -> None:
    assert validate_cap(None) == 500
    assert validate_cap(MAX_ROW_CAP) == MAX_ROW_CAP


# (sql, cap, expected values of n, truncated): `nums` holds n = 1..2000.
CAP_CASES = [
    ("SELECT n FROM nums ORDER BY n", 500, list(range(1, 501)), True),
    ("SELECT n FROM nums ORDER BY n DESC LIMIT 10", 500, list(range(2000, 1990, -1)), False),
    ("SELECT n FROM nums ORDER BY n LIMIT 800", 500, list(range(1, 501)), True),
    ("SELECT n FROM nums ORDER BY n LIMIT 500", 500, list(range(1, 501)), False),
    ("SELECT n FROM nums ORDER BY n LIMIT 800 OFFSET 100", 500, list(range(101, 601)), True),
    ("SELECT n FROM nums ORDER BY n OFFSET 1990", 500, list(range(1991, 2001)), False),
    ("SELECT n FROM nums ORDER BY n", 10_000, list(range(1, 2001)), False),
    (
        "SELECT n FROM nums WHERE n <= 3 UNION ALL "
        "SELECT n FROM nums WHERE n > 1997 ORDER BY n DESC",
        2,
        [2000, 1999],
        True,
    ),
    ("(SELECT n FROM nums ORDER BY n DESC LIMIT 4)", 500, [2000, 1999, 1998, 1997], False),
    ("(SELECT n FROM nums ORDER BY n DESC LIMIT 4)", 2, [2000, 1999], True),
    (
        "WITH top AS (SELECT n FROM nums ORDER BY n DESC LIMIT 700) SELECT n FROM top ORDER BY n",
        500,
        list(range(1301, 1801)),
        True,
    ),
    (
        "SELECT n FROM (SELECT n FROM nums ORDER BY n LIMIT 3) AS s ORDER BY n DESC",
        500,
        [3, 2, 1],
        False,
    ),
    (
        "SELECT n FROM nums WHERE n IN (SELECT n FROM nums ORDER BY n DESC LIMIT 2) ORDER BY n",
        1,
        [1999],
        True,
    ),
    (
        "(SELECT n FROM nums ORDER BY n LIMIT 5) UNION ALL "
        "(SELECT n FROM nums ORDER BY n DESC LIMIT 5) ORDER BY n",
        3,
        [1, 2, 3],
        True,
    ),
]


def _run_duckdb(path: Path, sql: str) -> list[Any]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return [row[0] for row in conn.execute(sql).fetchall()]


def _run_postgres(settings: dict[str, Any], sql: str) -> list[Any]:
    params = {k: v for k, v in settings.items() if k in ("host", "port", "user", "dbname")}
    with psycopg.connect(**params) as conn:
        return [row[0] for row in conn.execute(sql).fetchall()]


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize(("sql", "cap", "expected", "truncated"), CAP_CASES)
def test_cap_against_the_warehouse(
    dialect: str,
    sql: str,
    cap: int,
    expected: list[int],
    truncated: bool,
    duckdb_path: Path,
    pg_settings: dict[str, Any],
) -> None:
    def run(query: str) -> list[Any]:
        return (
            _run_duckdb(duckdb_path, query)
            if dialect == "duckdb"
            else _run_postgres(pg_settings, query)
        )

    guarded = guard(sql, dialect, cap=cap)
    rows = run(guarded.sql)
    assert len(rows) <= cap + 1, "the warehouse sent more than the cap plus one"
    assert rows[:cap] == expected
    assert (len(rows) > cap) is truncated
    # The oracle: the capped rows are a prefix of what the query returns on its own.
    assert rows[:cap] == run(sql)[:cap]


def test_fetch_first_is_tightened_on_postgres(pg_settings: dict[str, Any]) -> None:
    guarded = guard("SELECT n FROM nums ORDER BY n FETCH FIRST 900 ROWS ONLY", "postgres", cap=500)
    rows = _run_postgres(pg_settings, guarded.sql)
    assert rows == list(range(1, 502))


def test_snowflake_top_runs_on_duckdb(duckdb_path: Path) -> None:
    guarded = guard(
        "SELECT TOP 800 n FROM nums ORDER BY n DESC", "duckdb", cap=500, source_dialect="snowflake"
    )
    assert _run_duckdb(duckdb_path, guarded.sql) == list(range(2000, 1499, -1))


def test_bigquery_runs_on_postgres(pg_settings: dict[str, Any]) -> None:
    guarded = guard(
        "SELECT SAFE_CAST(n AS STRING) AS s FROM nums WHERE n < 3 ORDER BY n",
        "postgres",
        source_dialect="bigquery",
    )
    assert _run_postgres(pg_settings, guarded.sql) == ["1", "2"]
