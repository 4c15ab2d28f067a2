"""``dbt show`` on DuckDB, run by the pod: a read beside a running build.

dbt's own ``show`` opens the dev database through dbt-duckdb, which always opens it for
writing: beside a ``dbt build`` it would meet the build's lock ("Could not set lock on
file"), and holding the write slot for a read would make the build wait. So on DuckDB the
pod does what ``dbt show`` does with its own parts: the warm worker compiles the node (or
the ``--inline`` SQL) and the preview path runs it capped at ``--limit`` (where the dev
database may be opened: the worker read-only, or the running build's own process). The
table goes out as one ``dbt/log`` line, as dbt prints it; its rows are in memory only (no
artifact; the invocation's debug log for the history has every line but the rows, as the
writer's has for dbt's own show), like every preview's.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .commands import Command
from .debuglog import DebugLog

if TYPE_CHECKING:
    from .invocations import Invocation
    from .service import DbtService

DEFAULT_LIMIT = 5
MAX_LIMIT = 10_000
_CELL_WIDTH = 40


class ShowUnsupported(ValueError):
    """An argument dbt show takes but the pod's show does not; the message names it."""


@dataclass(frozen=True)
class ShowRequest:
    select: str | None
    inline: str | None
    limit: int
    output: str  # text | json


def parse_show(command: Command) -> ShowRequest:
    select = inline = None
    limit, output = DEFAULT_LIMIT, "text"
    args = list(command.args)
    i = 0
    while i < len(args):
        flag, _, value = args[i].partition("=")
        if not value and flag in ("--select", "-s", "--models", "-m", "--inline", "--limit",
                                  "--output", "-o"):  # fmt: skip
            if i + 1 >= len(args):
                raise ShowUnsupported(f"{flag} needs a value")
            value, i = args[i + 1], i + 1
        if flag in ("--select", "-s", "--models", "-m"):
            if select is not None or i + 1 < len(args) and not args[i + 1].startswith("-"):
                raise ShowUnsupported("dbt show previews one node: give one name to --select")
            select = value
        elif flag == "--inline":
            inline = value
        elif flag == "--limit":
            try:
                limit = int(value)
            except ValueError:
                raise ShowUnsupported(f"--limit takes a number, not {value!r}") from None
        elif flag in ("--output", "-o"):
            if value not in ("text", "json"):
                raise ShowUnsupported(f"--output is text or json, not {value!r}")
            output = value
        elif flag not in ("--quiet", "-q", "--no-version-check"):
            raise ShowUnsupported(f"dbt show on DuckDB does not take {flag}")
        i += 1
    if (select is None) == (inline is None):
        raise ShowUnsupported("dbt show needs --select with a node's name, or --inline with SQL")
    if limit < 0:  # dbt's -1: no limit; the pod caps every preview anyway
        limit = MAX_LIMIT
    return ShowRequest(select, inline, max(1, min(limit, MAX_LIMIT)), output)


async def run_show(service: DbtService, invocation: Invocation, debug_log: str | None) -> None:
    """Compile, preview, report: the whole invocation, ending with ``dbt/done``."""
    log_file = None
    if debug_log is not None:
        try:
            log_file = DebugLog(debug_log, hide_rows=True)
        except OSError:  # the history's log misses it; the show still runs
            log_file = None
    try:
        await _show(service, invocation, log_file)
    finally:
        if log_file is not None:
            log_file.close()


async def _show(service: DbtService, invocation: Invocation, log_file: DebugLog | None) -> None:
    started = time.monotonic()

    async def log(level: str, msg: str, node: str | None = None, rows: bool = False) -> None:
        if log_file is not None:
            log_file.line(level, "ShowNode: (the rows shown are not logged)" if rows else msg)
        body: dict[str, Any] = {"event": "log", "ts": _now(), "level": level, "msg": msg}
        if node:
            body["node"] = node
        await invocation.on_event(body)

    try:
        request = parse_show(invocation.command)
    except ShowUnsupported as exc:
        await log("error", str(exc))
        await invocation.finish(success=False, cancelled=False, counts={"error": 1})
        return
    answer = await service.compile(None, request.inline, request.select)
    if invocation.done.is_set():
        return  # cancelled meanwhile
    if "error" in answer:
        await log("error", str(answer["error"].get("message") or "dbt could not compile this"))
        await invocation.finish(success=False, cancelled=False, counts={"error": 1})
        return
    compiled = str(answer["result"]["compiled_sql"])
    unique_id = answer["result"].get("unique_id") or "sql_operation.inline_query"
    await log("info", "Running with the pod's preview: the dev database read beside any build")
    run_id = f"show:{invocation.invocation_id}:{secrets.token_hex(4)}"
    invocation.show_run_id = run_id
    columns: list[str] = []
    rows: list[list[Any]] = []
    failure: str | None = None
    cancelled = False
    async for event in service.stream_query(run_id, compiled, request.limit):
        kind = event.get("event")
        if kind == "columns":
            columns = [str(c["name"]) for c in event["columns"]]
        elif kind == "rows":
            rows.extend(event["rows"])
        elif kind in ("error", "refused"):
            failure = str(event.get("message") or "the preview failed")
            cancelled = bool(event.get("cancelled"))
    if invocation.done.is_set():
        return
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    if failure is not None:
        await log("error", failure, unique_id)
        await invocation.on_event(
            {
                "event": "node",
                "unique_id": unique_id,
                "status": "error",
                "elapsed_ms": elapsed_ms,
                "message": failure,
            }  # fmt: skip
        )
        await invocation.finish(success=False, cancelled=cancelled, counts={"error": 1})
        return
    title = (
        "Previewing inline node:" if request.inline is not None
        else f"Previewing node '{request.select}':"
    )  # fmt: skip
    table = (
        json.dumps({"show": [dict(zip(columns, row, strict=False)) for row in rows]}, default=str)
        if request.output == "json"
        else format_table(columns, rows)
    )
    await log("info", f"{title}\n{table}", unique_id, rows=True)
    await invocation.on_event(
        {"event": "node", "unique_id": unique_id, "status": "success", "elapsed_ms": elapsed_ms}
    )
    await invocation.finish(success=True, cancelled=False, counts={"pass": 1})


def format_table(columns: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, as dbt prints a show's rows."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max([len(c), *(len(r[i]) for r in cells if i < len(r))]) for i, c in enumerate(columns)
    ]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=False)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(columns), rule, *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
