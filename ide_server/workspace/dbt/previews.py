"""``query/preview`` of dbt SQL: compiled first (in the model's context when ``path`` names
one), then guarded, capped and streamed with the same notifications as any preview.

On DuckDB the compiled SQL reads the developer's dev database, which the SQL kernel
cannot open beside a running ``dbt build``; it runs through the dbt processes instead (see
:mod:`.service`). On PostgreSQL it goes to the SQL kernel like any other preview.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from typing import Any

from kernels.sql.guard import QueryRefused, guard, validate_cap

from .. import paths
from ..rpc import INVALID_PARAMS, Client, Context, RpcError
from .errors import raise_for_compile, service_errors
from .service import DbtService

log = logging.getLogger(__name__)

SQL_REFUSED = -32030  # as in query.py: the SQL is not a single read statement


def wants_dbt(sql: str, path: str | None, workspace: Any) -> bool:
    """Whether a preview must be compiled by dbt first."""
    if "{{" in sql or "{%" in sql:
        return True
    return path is not None and (workspace.root / "dbt_project.yml").is_file()


def relative_path(workspace: Any, path: str | None) -> str | None:
    if path is None:
        return None
    resolved = paths.resolve(workspace.root, path)
    return paths.relative_to_root(workspace.root, resolved)


async def compile_sql(service: DbtService, path: str | None, text: str | None) -> str:
    with service_errors():
        answer = await service.ask("compile", path=path, text=text)
    raise_for_compile(answer)
    return str(answer["result"]["compiled_sql"])


async def preview(ctx: Context, params: Any, service: DbtService, query_service: Any) -> dict:
    """Compile ``params.sql`` with dbt, then preview it; answers ``{"query_id"}``."""
    path = relative_path(ctx.workspace, params.path)
    with service_errors():
        setup = service.setup()
    compiled = await compile_sql(service, path, params.sql)
    cap = validate_cap(params.limit)
    if setup.adapter != "duckdb":
        plain = dataclasses.replace(params, sql=compiled, path=None, dialect=None)
        query_id = query_service.submit(ctx.client, plain, compiled_sql=compiled)
        return {"query_id": query_id}
    try:
        guarded = guard(compiled, "duckdb", cap=cap)
    except QueryRefused as exc:
        data = {"position": exc.position.to_json()} if exc.position else None
        raise RpcError(SQL_REFUSED, exc.message, data) from None
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None
    query_id = secrets.token_hex(8)
    service.previews.add(query_id)
    task = asyncio.ensure_future(_stream(service, ctx.client, query_id, guarded.source_sql, cap))
    service.keep(task)
    return {"query_id": query_id}


async def _stream(
    service: DbtService, client: Client, query_id: str, compiled: str, cap: int
) -> None:
    await asyncio.sleep(0)  # the answer with the query id goes out first
    try:
        async for event in service.stream_query(query_id, compiled, cap):
            kind = event.pop("event", None)
            event.pop("id", None)
            event["query_id"] = query_id
            if kind == "done":
                event["compiled_sql"] = compiled
            elif kind == "refused":
                kind = "error"
                event.setdefault("cancelled", False)
            if kind in ("columns", "rows", "done", "error"):
                await client.notify(f"query/{kind}", event)
            if kind in ("done", "error"):
                return
    except Exception:
        log.exception("dbt preview %s failed in the pod", query_id)
        await client.notify(
            "query/error",
            {
                "query_id": query_id,
                "message": "the preview failed on the server; see the pod log",
                "cancelled": False,
            },
        )
    finally:
        service.previews.discard(query_id)


def cancel(service: DbtService, query_id: str) -> bool:
    if query_id not in service.previews:
        return False
    service.cancel_query(query_id)
    return True
