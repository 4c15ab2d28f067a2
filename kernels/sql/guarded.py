"""What the guard decides, as plain data: a guarded statement, a refusal, the row cap.

Apart from :mod:`.guard` because they need no parser: the SQL kernel runs the statements
the pod already guarded and reads these without importing sqlglot, which would add a good
part of its memory to every kernel (see :mod:`.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ROW_CAP = 500
MAX_ROW_CAP = 10_000


@dataclass(frozen=True)
class Position:
    """1-based line and column in the SQL the user wrote."""

    line: int
    column: int

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "column": self.column}


class QueryRefused(Exception):
    """The SQL does not parse, or is not exactly one read statement."""

    def __init__(self, message: str, position: Position | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class GuardedQuery:
    """What the warehouse runs: ``sql`` returns at most ``cap + 1`` rows when limitable.

    The extra row lets the adapter tell whether the cap cut the result (``truncated``)
    without a second query.
    """

    sql: str
    cap: int
    dialect: str
    source_sql: str
    source_dialect: str


def validate_cap(limit: int | None) -> int:
    """The row cap for a request: 500 unless asked, at most 10,000."""
    if limit is None:
        return DEFAULT_ROW_CAP
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ROW_CAP:
        raise ValueError(f"limit must be an integer from 1 to {MAX_ROW_CAP}")
    return limit
