"""The kernel's warehouse thread: one thread, jobs in order, alive after a failing job."""

from __future__ import annotations

import threading

from kernels.sql.worker import WarehouseWorker


def test_jobs_run_in_order_on_one_thread_that_survives_a_failure() -> None:
    worker = WarehouseWorker()
    seen: list[tuple[int, int]] = []
    finished = threading.Event()

    def job(n: int) -> None:
        seen.append((n, threading.get_ident()))
        if n == 1:
            raise RuntimeError("a broken query")
        if n == 3:
            finished.set()

    for n in range(4):
        worker.submit(lambda n=n: job(n))
    assert finished.wait(5)
    assert [n for n, _ in seen] == [0, 1, 2, 3]
    assert len({thread for _, thread in seen}) == 1
    assert seen[0][1] != threading.get_ident()
    worker.stop()
    worker.stop()  # twice is fine


def test_a_stopped_worker_starts_again_on_the_next_job() -> None:
    worker = WarehouseWorker()
    worker.submit(lambda: None)
    worker.stop()
    ran = threading.Event()
    worker.submit(ran.set)
    assert ran.wait(5)
    worker.stop()
