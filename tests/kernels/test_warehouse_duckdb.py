"""The DuckDB adapter: streaming, sealing, cancel, timeout and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kernels.warehouses import Columns, Done, Rows, WarehouseError, open_warehouse
from kernels.warehouses.base import BATCH_BYTES, BATCH_ROWS, Event, Warehouse, merge_rows
from kernels.warehouses.duckdb import DuckDBWarehouse

HUGE_CROSS_JOIN = "SELECT sum(a.range * b.range) FROM range(1000000000) AS a, range(1000) AS b"


def collect(events: Iterator[Event]) -> tuple[list[Any], list[list[list[Any]]], Done]:
    items = list(events)
    assert isinstance(items[0], Columns) and isinstance(items[-1], Done)
    batches = [e.rows for e in items[1:-1] if isinstance(e, Rows)]
    return items[0].columns, batches, items[-1]


@pytest.fixture
def warehouse(duckdb_settings: dict[str, Any]) -> Iterator[Warehouse]:
    wh = open_warehouse(duckdb_settings)
    yield wh
    wh.close()
    wh.close()  # closing twice is fine


def test_streams_columns_then_batches(warehouse: Warehouse) -> None:
    columns, batches, done = collect(warehouse.run("SELECT n, label FROM nums ORDER BY n", 250))
    assert [(c.name, c.type) for c in columns] == [("n", "INTEGER"), ("label", "VARCHAR")]
    assert [len(b) for b in batches] == [100, 100, 50]
    assert [row[0] for b in batches for row in b] == list(range(1, 251))
    assert done.row_count == 250 and done.truncated


def test_not_truncated_when_everything_fits(warehouse: Warehouse) -> None:
    _, batches, done = collect(warehouse.run("SELECT n FROM nums WHERE n <= 7", 7))
    assert sum(len(b) for b in batches) == 7
    assert done.row_count == 7 and not done.truncated


def test_empty_result_still_has_columns(warehouse: Warehouse) -> None:
    columns, batches, done = collect(warehouse.run("SELECT n FROM nums WHERE false", 500))
    assert [c.name for c in columns] == ["n"] and batches == []
    assert done.row_count == 0 and not done.truncated


def test_batches_are_bounded_in_bytes(warehouse: Warehouse) -> None:
    _, batches, done = collect(warehouse.run("SELECT repeat('x', 10000) FROM range(60)", 500))
    assert done.row_count == 60
    assert all(len(b) * 10_000 <= BATCH_BYTES for b in batches)
    assert len(batches) > 1 and all(len(b) <= BATCH_ROWS for b in batches)


def test_values_become_json(warehouse: Warehouse) -> None:
    sql = (
        "SELECT 12.34::DECIMAL(10,2), DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05', "
        "9007199254740993::BIGINT, '\\x01\\xff'::BLOB, NULL, [1, 2], {'a': 1}, 'nan'::DOUBLE"
    )
    _, batches, _ = collect(warehouse.run(sql, 1))
    assert batches[0][0] == [
        "12.34",
        "2024-01-02",
        "2024-01-02T03:04:05",
        "9007199254740993",
        "\\x01ff",
        None,
        [1, 2],
        {"a": 1},
        "nan",
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_blob('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')",
        "COPY nums TO '/tmp/ide-preview-leak.csv'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE TABLE leak AS SELECT 1",
    ],
)
def test_sealed_against_files_network_and_writes(warehouse: Warehouse, sql: str) -> None:
    with pytest.raises(WarehouseError):
        collect(warehouse.run(sql, 10))
    assert not Path("/tmp/ide-preview-leak.csv").exists()


def test_cannot_attach_or_read_another_volume(warehouse: Warehouse, tmp_path: Path) -> None:
    other = tmp_path / "other-user.duckdb"
    with duckdb.connect(str(other)) as conn:
        conn.execute("CREATE TABLE secret AS SELECT 'top secret' AS s")
    (tmp_path / "other.csv").write_text("s\ntop secret\n")
    for sql in (
        f"ATTACH '{other}' AS other (READ_ONLY)",
        f"SELECT * FROM read_csv('{tmp_path / 'other.csv'}')",
        f"SELECT * FROM '{tmp_path / 'other.csv'}'",
    ):
        with pytest.raises(WarehouseError):
            collect(warehouse.run(sql, 10))
    _, batches, _ = collect(warehouse.run("SELECT count(*) FROM nums", 10))
    assert batches == [[[2000]]]


def test_cancel_returns_fast_and_next_query_works(warehouse: Warehouse) -> None:
    threading.Timer(0.5, warehouse.cancel).start()
    started = time.monotonic()
    with pytest.raises(WarehouseError) as info:
        collect(warehouse.run(HUGE_CROSS_JOIN, 10))
    assert time.monotonic() - started < 1.5
    assert info.value.cancelled and "cancelled" in info.value.message
    _, batches, _ = collect(warehouse.run("SELECT 42", 10))
    assert batches == [[[42]]]


def test_cancel_when_idle_is_harmless(warehouse: Warehouse) -> None:
    warehouse.cancel()
    _, batches, _ = collect(warehouse.run("SELECT 1", 10))
    assert batches == [[[1]]]


def test_statement_timeout(duckdb_settings: dict[str, Any]) -> None:
    wh = open_warehouse({**duckdb_settings, "statement_timeout": 0.5})
    started = time.monotonic()
    with pytest.raises(WarehouseError) as info:
        collect(wh.run(HUGE_CROSS_JOIN, 10))
    assert time.monotonic() - started < 1.5
    assert "statement timeout (0.5 s)" in info.value.message
    _, batches, _ = collect(wh.run("SELECT 1", 10))
    assert batches == [[[1]]]
    wh.close()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    wh = open_warehouse({"type": "duckdb", "path": str(tmp_path / "nope.duckdb")})
    with pytest.raises(WarehouseError, match="does not exist"):
        wh.connect()


def test_errors_are_clear_and_have_an_offset(warehouse: Warehouse) -> None:
    sql = "SELECT nosuch FROM nums"
    with pytest.raises(WarehouseError) as info:
        collect(warehouse.run(sql, 10))
    assert 'column "nosuch" not found' in info.value.message
    assert "LINE 1" not in info.value.message
    assert info.value.offset == sql.index("nosuch")
    _, batches, _ = collect(warehouse.run("SELECT 1", 10))
    assert batches == [[[1]]]


def _can_open_for_writing_elsewhere(path: str) -> bool:
    """Whether another process (say, dbt) could open the file read-write right now."""
    code = f"import duckdb; duckdb.connect({path!r}).close()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_idle_connection_is_released_for_writers(tmp_path: Path) -> None:
    path = str(tmp_path / "own.duckdb")  # not shared with the kernels other tests start
    duckdb.connect(path).close()
    # Generous: starting the checking process can take a second on a busy machine.
    wh = DuckDBWarehouse({"type": "duckdb", "path": path, "idle_close_seconds": 4.0})
    collect(wh.run("SELECT 1", 10))
    assert not _can_open_for_writing_elsewhere(path)
    time.sleep(4.5)
    assert _can_open_for_writing_elsewhere(path)
    collect(wh.run("SELECT 1", 10))  # and it reopens on demand
    wh.close()


def test_the_connection_stays_open_between_previews(tmp_path: Path) -> None:
    path = str(tmp_path / "kept.duckdb")
    duckdb.connect(path).close()
    wh = DuckDBWarehouse({"type": "duckdb", "path": path})
    collect(wh.run("SELECT 1", 10))
    time.sleep(6)  # longer than the 5 s after which it used to be closed
    assert not _can_open_for_writing_elsewhere(path)  # still held: no reopen next time
    wh.close()
    assert _can_open_for_writing_elsewhere(path)


def test_busy_while_another_process_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "written.duckdb")
    duckdb.connect(path).close()
    code = (
        f"import duckdb, time; c = duckdb.connect({path!r}); "
        "print('ready', flush=True); time.sleep(10)"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseError, match="being written by another process"):
            DuckDBWarehouse({"type": "duckdb", "path": path}).connect()
    finally:
        writer.kill()
        writer.wait()


def test_rows_read_together_are_merged_up_to_the_byte_bound() -> None:
    small = [Rows([[i]], 20_000) for i in range(5)]
    merged = merge_rows([Columns([]), *small, Done(row_count=5, truncated=False)])
    assert [type(e).__name__ for e in merged] == ["Columns", "Rows", "Rows", "Done"]
    first, second = merged[1], merged[2]
    assert isinstance(first, Rows) and isinstance(second, Rows)
    assert first.rows == [[0], [1], [2]] and second.rows == [[3], [4]]  # 60 KB, then 40 KB
    assert first.json_bytes <= BATCH_BYTES and second.json_bytes <= BATCH_BYTES


def test_the_rows_json_sent_is_the_rows_also_when_batches_were_merged(
    warehouse: Warehouse,
) -> None:
    sql = "SELECT n, label, NULL AS nothing, 'é\"\\' AS odd FROM nums ORDER BY n"
    events = merge_rows(list(warehouse.run(sql, 500)))
    batches = [e for e in events if isinstance(e, Rows)]
    assert len(batches) == 1 and batches[0].encoded is not None  # five reads, one message
    assert json.loads(batches[0].to_json()) == batches[0].rows
    assert [row[0] for row in batches[0].rows] == list(range(1, 501))
    assert batches[0].rows[0][2:] == [None, 'é"\\']
