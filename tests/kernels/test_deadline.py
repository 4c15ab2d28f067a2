"""The statement timeout's thread: fires once when due, never after disarm, every preview."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from kernels.warehouses import WarehouseError, open_warehouse
from kernels.warehouses.deadline import Deadline

from .test_warehouse_duckdb import HUGE_CROSS_JOIN, collect


def test_fires_when_due_and_not_once_disarmed() -> None:
    deadline = Deadline("test-deadline")
    fired: list[str] = []
    done = threading.Event()
    deadline.arm(0.05, lambda: (fired.append("first"), done.set()))
    assert done.wait(5)
    deadline.arm(0.05, lambda: fired.append("disarmed"))
    deadline.disarm()
    deadline.arm(30, lambda: fired.append("later"))
    done.clear()
    deadline.arm(0.05, lambda: (fired.append("sooner"), done.set()))  # replaces the 30 s one
    assert done.wait(5)
    time.sleep(0.2)
    assert fired == ["first", "sooner"]
    deadline.close()
    deadline.close()
    done.clear()
    deadline.arm(0.01, done.set)  # a closed deadline starts again when armed
    assert done.wait(5)
    deadline.close()


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_every_preview_gets_the_timeout_and_a_finished_one_is_never_cut(
    kind: str, duckdb_settings: dict[str, Any], pg_settings: dict[str, Any]
) -> None:
    settings = duckdb_settings if kind == "duckdb" else pg_settings
    slow = HUGE_CROSS_JOIN if kind == "duckdb" else "SELECT pg_sleep(5)"
    wh = open_warehouse({**settings, "statement_timeout": 0.4})
    try:
        collect(wh.run("SELECT 1", 1))
        time.sleep(0.6)  # past the first preview's deadline: nothing is left armed
        _, batches, _ = collect(wh.run("SELECT 2", 1))
        assert batches == [[[2]]]
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(WarehouseError, match=r"statement timeout \(0.4 s\)"):
                collect(wh.run(slow, 1))
            assert time.monotonic() - started < 1.5
        _, batches, _ = collect(wh.run("SELECT 3", 1))
        assert batches == [[[3]]]
    finally:
        wh.close()
