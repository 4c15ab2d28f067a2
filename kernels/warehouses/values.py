"""Turn driver values into JSON the browser can show without losing meaning."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Mapping, Sequence
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


def to_json_row(row: Sequence[Any]) -> list[Any]:
    return [
        v
        if type(v) in _AS_IS or (type(v) is int and -_MAX_SAFE_INTEGER <= v <= _MAX_SAFE_INTEGER)
        else to_json_value(v)
        for v in row
    ]


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
