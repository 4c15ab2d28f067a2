"""What every adapter shares: a result that is complete stays so when winding down fails."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kernels.warehouses import Column, Done, Rows
from kernels.warehouses.base import ResultCursor, Warehouse, WarehouseError


class _OneRow:
    def columns(self) -> list[Column]:
        return [Column("n", "INTEGER")]

    def fetch(self, size: int) -> Sequence[Sequence[Any]]:
        rows, self.rows = getattr(self, "rows", [(1,)]), []
        return rows


class LostAtRollback(Warehouse):
    """Gives one row, then loses the connection while ending the statement."""

    dialect = "duckdb"

    def connect(self) -> None:
        pass

    def _close_connection(self) -> None:
        pass

    def _interrupt(self) -> None:
        pass

    @contextmanager
    def _open(self, sql: str, limit: int) -> Iterator[ResultCursor]:
        yield _OneRow()
        raise WarehouseError("lost the connection")


def test_a_failure_after_the_result_is_complete_is_not_an_error() -> None:
    warehouse = LostAtRollback({})
    events = list(warehouse.run("SELECT 1", 10))
    assert isinstance(events[-1], Done) and events[-1].row_count == 1
    assert [e.rows for e in events if isinstance(e, Rows)] == [[[1]]]
    warehouse.close()
