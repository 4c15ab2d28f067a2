"""The PostgreSQL adapter against the real server: read-only, timeout, cancel, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from kernels.warehouses import Done, WarehouseError, open_warehouse
from kernels.warehouses.base import Warehouse

from .test_warehouse_duckdb import collect


@pytest.fixture
def warehouse(pg_settings: dict[str, Any]) -> Iterator[Warehouse]:
    wh = open_warehouse(pg_settings)
    yield wh
    wh.close()
    wh.close()


def test_streams_columns_then_batches(warehouse: Warehouse) -> None:
    columns, batches, done = collect(warehouse.run("SELECT n, label FROM nums ORDER BY n", 250))
    assert [(c.name, c.type) for c in columns] == [("n", "int4"), ("label", "text")]
    assert [len(b) for b in batches] == [100, 100, 50]
    assert [row[0] for b in batches for row in b] == list(range(1, 251))
    assert done == Done(row_count=250, truncated=True)


def test_empty_result_still_has_columns(warehouse: Warehouse) -> None:
    columns, batches, done = collect(warehouse.run("SELECT n, label FROM nums WHERE false", 500))
    assert [(c.name, c.type) for c in columns] == [("n", "int4"), ("label", "text")]
    assert batches == [] and done == Done(row_count=0, truncated=False)


def test_rows_past_the_cap_are_never_read_and_the_next_preview_works(
    warehouse: Warehouse,
) -> None:
    # The cap ends the read mid-result (the guard's LIMIT is not there to help): the rest
    # of the stream is dropped and the transaction ends cleanly.
    _, batches, done = collect(warehouse.run("SELECT n FROM nums", 150))
    assert sum(len(b) for b in batches) == 150 and done.truncated
    _, batches, _ = collect(warehouse.run("SELECT count(*) FROM nums", 10))
    assert batches == [[[2000]]]


def test_types_and_values(warehouse: Warehouse) -> None:
    sql = "SELECT 12.34::numeric(10,2) AS price, DATE '2024-01-02' AS day, '%{x}' AS text"
    columns, batches, _ = collect(warehouse.run(sql, 1))
    assert [c.type for c in columns] == ["numeric(10,2)", "date", "text"]
    assert batches == [[["12.34", "2024-01-02", "%{x}"]]]


def test_transaction_is_read_only(warehouse: Warehouse) -> None:
    _, batches, _ = collect(warehouse.run("SELECT current_setting('transaction_read_only')", 1))
    assert batches == [[["on"]]]
    # Writes hidden in a function call hit the read-only transaction.
    sql = "SELECT count(*) FROM (SELECT set_config('x.y', '1', false)) s, nums"
    collect(warehouse.run(sql, 1))
    with pytest.raises(WarehouseError, match="read-only transaction"):
        collect(warehouse.run("SELECT nextval('nums_seq')", 1))


@pytest.mark.parametrize("sql", ["CREATE TABLE leak (a int)", "INSERT INTO nums VALUES (0, 'x')"])
def test_statements_other_than_queries_cannot_run(warehouse: Warehouse, sql: str) -> None:
    # The guard refuses these first; a cursor cannot even be declared for them.
    with pytest.raises(WarehouseError):
        collect(warehouse.run(sql, 10))
    _, batches, _ = collect(warehouse.run("SELECT count(*) FROM nums", 10))
    assert batches == [[[2000]]]


def test_a_query_cannot_lift_the_timeout(pg_settings: dict[str, Any]) -> None:
    wh = open_warehouse({**pg_settings, "statement_timeout": 0.5})
    collect(wh.run("SELECT set_config('statement_timeout', '0', false)", 1))
    started = time.monotonic()
    with pytest.raises(WarehouseError, match=r"statement timeout \(0.5 s\)"):
        collect(wh.run("SELECT pg_sleep(5)", 1))
    assert time.monotonic() - started < 1.5
    _, batches, _ = collect(wh.run("SELECT 1", 1))
    assert batches == [[[1]]]
    wh.close()


def test_cancel_returns_fast_and_next_query_works(warehouse: Warehouse) -> None:
    collect(warehouse.run("SELECT 1", 1))
    threading.Timer(0.5, warehouse.cancel).start()
    started = time.monotonic()
    with pytest.raises(WarehouseError) as info:
        collect(warehouse.run("SELECT pg_sleep(30)", 1))
    assert time.monotonic() - started < 1.5
    assert info.value.cancelled and "cancelled" in info.value.message
    _, batches, _ = collect(warehouse.run("SELECT 42", 1))
    assert batches == [[[42]]]


def test_warehouse_down_is_a_clear_error() -> None:
    wh = open_warehouse({"type": "postgres", "host": "127.0.0.1", "port": 1, "user": "x"})
    started = time.monotonic()
    with pytest.raises(WarehouseError) as info:
        wh.connect()
    assert time.monotonic() - started < 5
    assert info.value.message.startswith("could not connect to the PostgreSQL warehouse")
    assert "127.0.0.1:1" in info.value.message and "refused" in info.value.message.lower()


def test_wrong_credentials_are_a_clear_error(pg_settings: dict[str, Any]) -> None:
    # The test server trusts local connections, so a wrong role stands in for a wrong
    # password; the password itself must never show up in the message.
    settings = {**pg_settings, "user": "no_such_role", "password": "hunter2-secret"}
    with pytest.raises(WarehouseError) as info:
        collect(open_warehouse(settings).run("SELECT 1", 1))
    assert "could not connect" in info.value.message
    assert 'role "no_such_role" does not exist' in info.value.message
    assert "hunter2" not in info.value.message


def test_syntax_error_has_message_and_offset(warehouse: Warehouse) -> None:
    sql = "SELECT n FROM nums WHERE nosuch > 1"
    with pytest.raises(WarehouseError) as info:
        collect(warehouse.run(sql, 1))
    assert info.value.message == 'column "nosuch" does not exist'
    assert info.value.offset == sql.index("nosuch")
    _, batches, _ = collect(warehouse.run("SELECT 1", 1))
    assert batches == [[[1]]]


def test_reconnects_after_the_server_dropped_the_connection(
    warehouse: Warehouse, pg_settings: dict[str, Any]
) -> None:
    collect(warehouse.run("SELECT 1", 1))
    admin = {k: pg_settings[k] for k in ("host", "port", "user")}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'ide-sql-preview' AND datname = %s",
            (pg_settings["dbname"],),
        )
    time.sleep(0.2)
    _, batches, _ = collect(warehouse.run("SELECT 7", 1))
    assert batches == [[[7]]]
