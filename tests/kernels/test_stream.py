"""Batching a preview's events from the worker thread: all rows, in order, the end last."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from kernels.sql.stream import FLUSH_AFTER, stream_events
from kernels.sql.worker import WarehouseWorker
from kernels.warehouses import Column, Columns, Done, Event, Rows, WarehouseError
from kernels.warehouses.base import BATCH_BYTES


@pytest.fixture
def worker() -> Iterator[WarehouseWorker]:
    worker = WarehouseWorker()
    yield worker
    worker.stop()


def result(batches: int, rows_per_batch: int, width: int) -> Iterator[Event]:
    yield Columns([Column("n", "INTEGER"), Column("label", "VARCHAR")])
    for b in range(batches):
        rows = [[b * rows_per_batch + i, "x" * width] for i in range(rows_per_batch)]
        yield Rows(rows, rows_per_batch * (width + 12))
    yield Done(row_count=batches * rows_per_batch, truncated=False)


async def collect(worker: WarehouseWorker, events: Iterator[Event]) -> list[list[Event]]:
    return [batch async for batch in stream_events(worker, events)]


async def test_a_small_result_is_one_message_with_every_row_in_order(
    worker: WarehouseWorker,
) -> None:
    messages = await collect(worker, result(5, 100, 10))
    assert len(messages) == 1
    events = messages[0]
    assert isinstance(events[0], Columns) and isinstance(events[-1], Done)
    rows = [row[0] for e in events if isinstance(e, Rows) for row in e.rows]
    assert rows == list(range(500))


async def test_a_large_result_is_sent_in_bounded_batches_and_done_last(
    worker: WarehouseWorker,
) -> None:
    messages = await collect(worker, result(40, 100, 200))  # about 800 KB of rows
    assert len(messages) > 5
    events = [e for m in messages for e in m]
    assert isinstance(events[0], Columns) and isinstance(events[-1], Done)
    assert sum(isinstance(e, Done) for e in events) == 1
    rows = [row[0] for e in events if isinstance(e, Rows) for row in e.rows]
    assert rows == list(range(4000))
    for message in messages:
        size = sum(e.json_bytes for e in message if isinstance(e, Rows))
        assert size <= BATCH_BYTES


async def test_first_rows_go_out_while_the_warehouse_is_still_busy(
    worker: WarehouseWorker,
) -> None:
    release = threading.Event()

    def slow() -> Iterator[Event]:
        yield Columns([Column("n", "INTEGER")])
        yield Rows([[1]], 4)
        release.wait(10)  # the next batch takes long on the warehouse
        yield Done(row_count=1, truncated=False)

    started = time.monotonic()
    stream = stream_events(worker, slow())
    first = await anext(stream)
    assert time.monotonic() - started < FLUSH_AFTER + 0.5
    assert [type(e) for e in first] == [Columns, Rows]
    release.set()
    assert [type(e) for e in await anext(stream)] == [Done]
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_an_error_comes_after_the_rows_before_it_and_the_worker_goes_on(
    worker: WarehouseWorker,
) -> None:
    def failing() -> Iterator[Event]:
        yield Columns([Column("n", "INTEGER")])
        yield Rows([[1]], 4)
        raise WarehouseError("division by zero")

    seen: list[Event] = []
    with pytest.raises(WarehouseError, match="division by zero"):
        async for batch in stream_events(worker, failing()):
            seen.extend(batch)
    assert [type(e) for e in seen] == [Columns, Rows]
    messages = await asyncio.wait_for(collect(worker, result(1, 3, 1)), 5)
    assert isinstance(messages[-1][-1], Done)
