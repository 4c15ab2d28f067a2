"""Batching a preview's events from the worker thread: all rows, in order, the end last."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from kernels.sql.stream import FLUSH_AFTER, Batcher
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


class Loop:
    """The kernel loop's side: waits for wake-ups and timeouts, takes what is due."""

    def __init__(self) -> None:
        self.woken = threading.Semaphore(0)
        self.wake_ups = 0
        self.batcher = Batcher(self._wake)

    def _wake(self) -> None:
        self.wake_ups += 1
        self.woken.release()

    def messages(self, deadline: float = 10) -> Iterator[list[Event] | object]:
        """Each message as the loop sends it, then the run's outcome."""
        stop = time.monotonic() + deadline
        while time.monotonic() < stop:
            wait = self.batcher.timeout()
            self.woken.acquire(timeout=0.5 if wait is None else wait)
            messages, end = self.batcher.take()
            yield from messages
            if end is not None:
                yield end
                return
        raise AssertionError("the run did not end")


def run(worker: WarehouseWorker, events: Iterator[Event]) -> Loop:
    loop = Loop()

    def job() -> None:
        try:
            for event in events:
                loop.batcher.add(event, urgent=isinstance(event, Done))
        except WarehouseError as exc:
            loop.batcher.finish(exc)
        else:
            loop.batcher.finish("ended")

    worker.submit(job)
    return loop


def collect(worker: WarehouseWorker, events: Iterator[Event]) -> list[list[Event]]:
    *messages, end = run(worker, events).messages()
    assert end == "ended"
    return messages  # type: ignore[return-value]


def test_a_small_result_is_one_message_with_every_row_in_order(worker: WarehouseWorker) -> None:
    loop = run(worker, result(5, 100, 10))
    *messages, end = loop.messages()
    assert len(messages) == 1 and end == "ended"
    events = messages[0]
    assert isinstance(events, list)
    assert isinstance(events[0], Columns) and isinstance(events[-1], Done)
    rows = [row[0] for e in events if isinstance(e, Rows) for row in e.rows]
    assert rows == list(range(500))
    assert loop.wake_ups <= 3  # the first event, Done and the end: not one per event


def test_a_large_result_is_sent_in_bounded_batches_and_done_last(
    worker: WarehouseWorker,
) -> None:
    messages = collect(worker, result(40, 100, 200))  # about 800 KB of rows
    assert len(messages) > 5
    events = [e for m in messages for e in m]
    assert isinstance(events[0], Columns) and isinstance(events[-1], Done)
    assert sum(isinstance(e, Done) for e in events) == 1
    rows = [row[0] for e in events if isinstance(e, Rows) for row in e.rows]
    assert rows == list(range(4000))
    for message in messages:
        size = sum(e.json_bytes for e in message if isinstance(e, Rows))
        assert size <= BATCH_BYTES


def test_first_rows_go_out_while_the_warehouse_is_still_busy(worker: WarehouseWorker) -> None:
    release = threading.Event()

    def slow() -> Iterator[Event]:
        yield Columns([Column("n", "INTEGER")])
        yield Rows([[1]], 4)
        release.wait(10)  # the next batch takes long on the warehouse
        yield Done(row_count=1, truncated=False)

    started = time.monotonic()
    messages = run(worker, slow()).messages()
    first = next(messages)
    assert time.monotonic() - started < FLUSH_AFTER + 0.5
    assert isinstance(first, list) and [type(e) for e in first] == [Columns, Rows]
    release.set()
    second = next(messages)
    assert isinstance(second, list) and [type(e) for e in second] == [Done]
    assert next(messages) == "ended"


def test_nothing_is_due_before_its_time(worker: WarehouseWorker) -> None:
    loop = Loop()
    loop.batcher.add(Rows([[1]], 4))
    assert loop.batcher.take() == ([], None)
    wait = loop.batcher.timeout()
    assert wait is not None and 0 < wait <= FLUSH_AFTER
    time.sleep(FLUSH_AFTER)
    messages, end = loop.batcher.take()
    assert [[type(e) for e in m] for m in messages] == [[Rows]] and end is None
    assert loop.batcher.timeout() is None


def test_an_error_comes_after_the_rows_before_it_and_the_worker_goes_on(
    worker: WarehouseWorker,
) -> None:
    def failing() -> Iterator[Event]:
        yield Columns([Column("n", "INTEGER")])
        yield Rows([[1]], 4)
        raise WarehouseError("division by zero")

    *messages, end = run(worker, failing()).messages()
    assert [type(e) for m in messages for e in m] == [Columns, Rows]  # type: ignore[attr-defined]
    assert isinstance(end, WarehouseError) and "division by zero" in str(end.message)
    assert isinstance(collect(worker, result(1, 3, 1))[-1][-1], Done)
