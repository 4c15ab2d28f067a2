"""Warehouse adapters: one module per warehouse behind :class:`base.Warehouse`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Column, Columns, Done, Event, Rows, Warehouse, WarehouseError

__all__ = [
    "Column",
    "Columns",
    "Done",
    "Event",
    "Rows",
    "Warehouse",
    "WarehouseError",
    "dialect_of",
    "open_warehouse",
]

_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "postgresql": "postgres"}


def dialect_of(settings: Mapping[str, Any]) -> str:
    """The sqlglot dialect of the configured warehouse, without importing its driver."""
    kind = str(settings.get("type", "")).lower()
    if kind not in _DIALECTS:
        raise WarehouseError(
            f"no warehouse is configured for previews (type {kind!r}; expected duckdb or postgres)"
        )
    return _DIALECTS[kind]


def open_warehouse(settings: Mapping[str, Any]) -> Warehouse:
    """The adapter for ``settings`` (the pod's ``warehouse`` dict); not connected yet."""
    dialect = dialect_of(settings)
    if dialect == "duckdb":
        from .duckdb import DuckDBWarehouse

        return DuckDBWarehouse(settings)
    from .postgres import PostgresWarehouse

    return PostgresWarehouse(settings)
