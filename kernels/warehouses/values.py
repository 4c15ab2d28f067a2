"""Turn driver values into JSON the browser can show without losing meaning."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# JavaScript numbers are doubles: larger integers would be silently rounded in the grid.
_MAX_SAFE_INTEGER = 2**53 - 1


def to_json_value(value: Any) -> Any:
    """A JSON-ready form of one cell; exact where a double would not be."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= _MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)  # numeric(38, 10) must not become a rounded double
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_json_value(v) for v in value]
    return str(value)


# Types that are already JSON as they come from the driver: most cells, so they skip the
# conversion chain (a 10,000-row preview converts tens of thousands of cells).
_AS_IS = frozenset({str, bool, type(None)})


def _safe_int(value: int) -> int | str:
    return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else str(value)


# The usual types of a column, each with its conversion (the same as to_json_value's).
_BY_TYPE: dict[type, Callable[[Any], Any]] = {
    int: _safe_int,
    float: to_json_value,
    decimal.Decimal: str,
    dt.datetime: dt.datetime.isoformat,
    dt.date: dt.date.isoformat,
    dt.time: dt.time.isoformat,
    uuid.UUID: str,
    dt.timedelta: str,
}


def to_json_row(row: Sequence[Any]) -> list[Any]:
    return [
        v
        if type(v) in _AS_IS or (type(v) is int and -_MAX_SAFE_INTEGER <= v <= _MAX_SAFE_INTEGER)
        else to_json_value(v)
        for v in row
    ]


def to_json_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """``to_json_row`` of each row, done a column at a time.

    A column holds one type (and NULLs), so its conversion is picked once and mapped over
    it, instead of testing each cell's type: a few times faster for a batch of rows.
    """
    if not rows:
        return []
    return [list(row) for row in zip(*map(_json_column, zip(*rows, strict=True)), strict=True)]


def _json_column(values: tuple[Any, ...]) -> Sequence[Any]:
    kinds = set(map(type, values))
    if kinds <= _AS_IS:
        return values
    kinds.discard(type(None))
    if kinds == {int}:
        present = [v for v in values if v is not None]
        if -_MAX_SAFE_INTEGER <= min(present) and max(present) <= _MAX_SAFE_INTEGER:
            return values
    convert = _BY_TYPE.get(kinds.pop()) if len(kinds) == 1 else None
    if convert is None:  # mixed or unusual types: cell by cell
        return [to_json_row((v,))[0] for v in values]
    return [None if v is None else convert(v) for v in values]


def estimate_json_bytes(row: list[Any]) -> int:
    """About how many bytes ``row`` takes as JSON; cheap, for sizing batches."""
    size = 2
    for value in row:
        if isinstance(value, str):
            size += len(value) + 3
        elif isinstance(value, list | dict):
            size += len(json.dumps(value, ensure_ascii=False)) + 1
        else:
            size += 12
    return size
