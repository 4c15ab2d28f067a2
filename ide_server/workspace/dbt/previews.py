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
from typing import Any

from .. import paths
from ..errors import INVALID_PARAMS, SQL_REFUSED, RpcError
from ..rpc import Client, Context
from .errors import raise_for_compile, service_errors
from .service import DbtService

log = logging.getLogger(__name__)


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
        answer = await service.compile(path, text)
    raise_for_compile(answer)
    return str(answer["result"]["compiled_sql"])


async def preview(ctx: Context, params: Any, service: DbtService, query_service: Any) -> None:
    """Compile ``params.sql`` with dbt, then preview it under the client's ``query_id``."""
    from kernels.sql.guard import QueryRefused, guard, validate_cap  # sqlglot: slow to import

    path = relative_path(ctx.workspace, params.path)
    with service_errors():
        setup = service.setup()
    compiled = await compile_sql(service, path, params.sql)
    cap = validate_cap(params.limit)
    if setup.adapter != "duckdb":
        plain = dataclasses.replace(params, sql=compiled, path=None, dialect=None)
        query_service.submit(ctx.client, plain, compiled_sql=compiled)
        return
    try:
        guarded = guard(compiled, "duckdb", cap=cap)
    except QueryRefused as exc:
        data = {"position": exc.position.to_json()} if exc.position else None
        raise RpcError(SQL_REFUSED, exc.message, data) from None
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, str(exc)) from None
    query_id = params.query_id
    # The worker's and the command's processes know a preview by a pod-wide id: two tabs
    # may both call theirs "q1".
    run_id = f"{id(ctx.client):x}:{query_id}"
    service.previews.claim(ctx.client, query_id, run_id)
    task = asyncio.ensure_future(
        _stream(service, ctx.client, query_id, run_id, guarded.source_sql, cap)
    )
    service.keep(task)


async def _stream(
    service: DbtService, client: Client, query_id: str, run_id: str, compiled: str, cap: int
) -> None:
    try:
        async for event in service.stream_query(run_id, compiled, cap):
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
        service.previews.release(client, query_id)


def cancel(service: DbtService, client: Client, query_id: str) -> bool:
    """Cancel ``client``'s dbt preview ``query_id``; False if it is not running."""
    run_id = service.previews.get(client, query_id)
    if run_id is None:
        return False
    service.cancel_query(run_id)
    return True
