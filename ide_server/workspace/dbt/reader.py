"""The warm dbt worker: ``python -m ide_server.workspace.dbt.reader`` (one per session).

Answers the pod's read requests one at a time over the channel (see :mod:`.channel`):
``parse``, ``compile`` (a node, an unsaved buffer, or inline SQL), ``query`` (a preview of
compiled SQL on the dev database), ``lineage`` and ``catalog``. ``cancel`` is handled at
once, on the reading thread, to interrupt a running preview.

The first line the pod sends is the setup: project directory, profiles directory, the
worker's private target/log directories, and the DuckDB dev database with its attachments.
"""

from __future__ import annotations

import queue
import threading
import traceback
from pathlib import Path
from typing import Any

from .channel import Channel
from .devdb import DevDatabase, PreviewRunner, open_read_only
from .graph import UnknownNode, catalog, find_node, lineage
from .project import CompileFailed, Project
from .shadow import Shadow


def common_args(setup: dict[str, Any]) -> list[str]:
    private = Path(setup["private_dir"])
    return [
        "--profiles-dir", setup["profiles_dir"],
        "--project-dir", setup["project_dir"],
        "--target", setup["target"],
        "--target-path", str(private / "target"),
        "--log-path", str(private / "logs"),
        # No debug log at all: previews' SQL and dbt's show rows must not land in files.
        "--log-level-file", "none",
        "--quiet",
        "--no-version-check",
        "--no-send-anonymous-usage-stats",
    ]  # fmt: skip


class Reader:
    def __init__(self, channel: Channel, setup: dict[str, Any]) -> None:
        self.channel = channel
        self.setup = setup
        self.project = Project(Path(setup["project_dir"]), common_args(setup))
        dev = Path(setup["dev_path"]) if setup.get("dev_path") else None
        attach = [list(a) for a in setup.get("attach") or []]
        self.previews = PreviewRunner(
            DevDatabase(lambda: open_read_only(dev, attach), close_after=True), channel.send
        )
        scratch = Path(setup["scratch_path"]) if setup.get("scratch_path") else None
        self.shadow = Shadow(dev, scratch, "dev")

    def handle(self, request: dict[str, Any]) -> None:
        request_id = request["id"]
        try:
            result = self._answer(request)
        except CompileFailed as exc:
            error = {"kind": "compile", "message": exc.message, "path": exc.path, "line": exc.line}
            self.channel.send({"id": request_id, "error": error})
        except UnknownNode as exc:
            self.channel.send({"id": request_id, "error": {"kind": "unknown", "message": str(exc)}})
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            self.channel.send(
                {
                    "id": request_id,
                    "error": {
                        "kind": "failed",
                        "message": message,
                        "trace": traceback.format_exc(limit=5),
                    },
                }
            )
        else:
            if result is not None:
                self.channel.send({"id": request_id, "result": result})

    def _answer(self, request: dict[str, Any]) -> dict[str, Any] | None:
        op = request["op"]
        if op == "parse":
            manifest = self.project.manifest()
            if self.project.parse_error is not None:
                raise self.project.parse_error
            return {"nodes": len(manifest.nodes)}
        if op == "compile":
            if request.get("dev_free"):  # no command holds the dev file: read its relations
                self.shadow.refresh()
            path = request.get("path")
            if request.get("name"):
                path = self.project.path_of(str(request["name"]))
                seed = self.project.seed_relation(str(request["name"]))
                if seed is not None:
                    return {"compiled_sql": f"select * from {seed[1]}", "unique_id": seed[0]}
            compiled = self.project.compile(path, request.get("text"))
            return {"compiled_sql": compiled.sql, "unique_id": compiled.unique_id}
        if op == "query":
            self.previews.run(request["id"], request["sql"], int(request["cap"]))
            return None  # the preview sent its own events
        if op == "lineage":
            manifest = self.project.manifest()
            start = find_node(manifest, request.get("path"), request.get("unique_id"))
            graph = lineage(manifest, start, int(request["upstream"]), int(request["downstream"]))
            return self._with_staleness(graph)
        if op == "catalog":
            columns = self._warehouse_columns() if request.get("warehouse") else {}
            return self._with_staleness(catalog(self.project.manifest(), columns))
        raise ValueError(f"unknown request {op!r}")

    def _with_staleness(self, answer: dict[str, Any]) -> dict[str, Any]:
        """Say when the answer comes from the last manifest that parsed, and why."""
        error = self.project.parse_error
        if error is not None:
            answer["stale"] = {"message": error.message, "path": error.path, "line": error.line}
        return answer

    def _warehouse_columns(self) -> dict[str, list[str]]:
        if self.setup.get("adapter") != "duckdb":
            return {}
        dev = Path(self.setup["dev_path"]) if self.setup.get("dev_path") else None
        attach = [list(a) for a in self.setup.get("attach") or []]
        conn = open_read_only(dev, attach)
        try:
            rows = conn.execute(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "ORDER BY table_catalog, table_schema, table_name, ordinal_position"
            ).fetchall()
        finally:
            conn.close()
        columns: dict[str, list[str]] = {}
        for schema, table, column in rows:
            columns.setdefault(f"{schema}.{table}".lower(), []).append(str(column))
        return columns


def main() -> None:
    channel = Channel.take_stdio()
    messages = channel.messages()
    reader = Reader(channel, next(messages))
    work: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def read_requests() -> None:
        for message in messages:
            if message.get("op") == "cancel":
                reader.previews.cancel(str(message.get("target")))
            else:
                work.put(message)
        work.put(None)  # the pod closed the channel: exit

    threading.Thread(target=read_requests, daemon=True).start()
    while (request := work.get()) is not None:
        reader.handle(request)


if __name__ == "__main__":
    main()
