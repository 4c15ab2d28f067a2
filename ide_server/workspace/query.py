"""``query/*``: SQL previews, declared for the protocol; :mod:`.previews` runs them.

The client names each preview with a ``query_id`` of its choosing (see :mod:`.runs`), so
it knows the preview's notifications as its own before the answer comes: the rows follow
as notifications to the calling client only (``query/columns``, ``query/rows``..., then
``query/done`` or ``query/error``), and may overtake the answer. A refused statement is a
JSON-RPC error (``SQL_REFUSED``) and never starts a kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from .errors import (
    ALREADY_EXISTS,
    COMPILE_ERROR,
    INVALID_PATH,
    NO_WAREHOUSE,
    NOT_DBT_PROJECT,
    SQL_REFUSED,
)
from .rpc import Context, MethodRegistry
from .runs import check_client_id

__all__ = ["SQL_REFUSED", "PreviewParams", "methods"]

methods = MethodRegistry()


@dataclass(frozen=True)
class PreviewParams:
    query_id: str  # chosen by the client, unique among its running previews
    sql: str
    limit: int | None = None
    dialect: str | None = None
    path: str | None = None  # the dbt node the SQL belongs to: compiled in its context

    def __post_init__(self) -> None:
        # A ValueError here becomes an INVALID_PARAMS answer. sqlglot is imported by the first
        # preview, not at pod start (it takes a good part of a second).
        from sqlglot.dialects.dialect import Dialect

        from kernels.sql.guard import validate_cap

        check_client_id(self.query_id, "query_id")
        validate_cap(self.limit)
        if self.dialect is not None:
            Dialect.get_or_raise(self.dialect)


@dataclass(frozen=True)
class QueryCancelParams:
    query_id: str


class PreviewResult(TypedDict):
    query_id: str


class QueryCancelResult(TypedDict):
    query_id: str
    cancelled: bool  # false: it had already finished, or is unknown


class QueryColumn(TypedDict):
    name: str
    type: str  # the warehouse's own type name


class QueryColumns(TypedDict):
    query_id: str
    columns: list[QueryColumn]


class QueryRows(TypedDict):
    query_id: str
    rows: list[list[Any]]


class QueryDone(TypedDict):
    query_id: str
    row_count: int
    elapsed_ms: float
    truncated: bool
    compiled_sql: NotRequired[str]  # what dbt compiled, when the preview was dbt SQL


class SqlPosition(TypedDict):
    line: int
    column: int


class QueryError(TypedDict):
    query_id: str
    message: str
    position: NotRequired[SqlPosition]
    cancelled: bool


methods.notification("query/columns", QueryColumns)
methods.notification("query/rows", QueryRows)
methods.notification("query/done", QueryDone)
methods.notification("query/error", QueryError)
EVENTS: tuple[Literal["columns", "rows", "done", "error"], ...] = (
    "columns",
    "rows",
    "done",
    "error",
)


@methods.method(
    "query/preview",
    PreviewParams,
    result=PreviewResult,
    errors=(
        SQL_REFUSED,
        ALREADY_EXISTS,
        COMPILE_ERROR,
        NOT_DBT_PROJECT,
        INVALID_PATH,
        NO_WAREHOUSE,
    ),
    guest_mode="full",  # runs on the warehouse with the owner's credentials
)
async def preview(ctx: Context, params: PreviewParams) -> dict[str, Any]:
    from .dbt import previews as dbt_previews

    if dbt_previews.wants_dbt(params.sql, params.path, ctx.workspace):
        await dbt_previews.preview(ctx, params, ctx.workspace.dbt, ctx.workspace.queries)
    else:
        ctx.workspace.queries.submit(ctx.client, params)
    return {"query_id": params.query_id}


@methods.method("query/cancel", QueryCancelParams, result=QueryCancelResult, guest_mode="full")
async def cancel(ctx: Context, params: QueryCancelParams) -> dict[str, Any]:
    from .dbt import previews as dbt_previews

    cancelled = await ctx.workspace.queries.cancel(ctx.client, params.query_id)
    cancelled = cancelled or dbt_previews.cancel(ctx.workspace.dbt, ctx.client, params.query_id)
    return {"query_id": params.query_id, "cancelled": cancelled}
