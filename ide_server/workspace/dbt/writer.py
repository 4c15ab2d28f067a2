"""One dbt command in a process of its own: ``python -m ide_server.workspace.dbt.writer``.

The first channel line is the invocation: ``{"argv": [...], "adapter": ...}``. dbt's
structured events go back as ``log`` and ``node`` messages, then one ``done``. SIGINT is
dbt's own cancel path: the running node's warehouse statements are cancelled and
``run_results.json`` written, then this process reports ``cancelled`` and exits.

While it runs, the process also answers ``query`` requests (previews) on a DuckDB dev
database: it holds the file's write lock, so previews read through its own open database
instance (see :mod:`.devdb`). It keeps answering them after ``done`` until the pod closes
the channel, which the pod does as soon as no preview of its own is in flight here.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import duckdb

from .channel import Channel
from .debuglog import DebugLog
from .devdb import DevDatabase, PreviewRunner
from .events import EventRelay

_OPEN_WAIT_SECONDS = 15.0


def _writer_connection() -> duckdb.DuckDBPyConnection:
    """A second connection to the database dbt-duckdb opened in this process."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    deadline = time.monotonic() + _OPEN_WAIT_SECONDS
    while True:
        env = DuckDBConnectionManager._ENV
        conn = getattr(env, "conn", None)
        if conn is not None:
            return conn.cursor()
        if time.monotonic() > deadline:
            raise duckdb.ConnectionException("the running dbt command has not opened it yet")
        time.sleep(0.05)


def _serve_previews(channel: Channel, messages: Any) -> None:
    previews = PreviewRunner(DevDatabase(_writer_connection, close_after=True), channel.send)
    for message in messages:
        op = message.get("op")
        if op == "cancel":
            previews.cancel(str(message.get("target")))
        elif op == "query":
            threading.Thread(
                target=previews.run,
                args=(message["id"], message["sql"], int(message["cap"])),
                daemon=True,
            ).start()


def run(channel: Channel, invocation: dict[str, Any]) -> dict[str, Any]:
    from dbt.cli.main import dbtRunner

    relay = EventRelay(channel.send)
    callbacks: list[Any] = [relay]
    debug_log = None
    if invocation.get("debug_log"):
        debug_log = DebugLog(invocation["debug_log"], hide_rows=bool(invocation.get("hide_rows")))
        callbacks.append(debug_log)
    started = time.monotonic()
    cancelled = False
    success = False
    try:
        result = dbtRunner(callbacks=callbacks).invoke(list(invocation["argv"]))
        success = bool(result.success)
        cancelled = isinstance(result.exception, KeyboardInterrupt)
        if result.exception is not None and not cancelled:
            if debug_log is not None:
                debug_log.line("error", str(result.exception))
            channel.send(
                {
                    "event": "log",
                    "level": "error",
                    "msg": str(result.exception),
                    "ts": None,
                    "name": "InvocationFailed",
                }
            )
    except KeyboardInterrupt:
        cancelled = True
    if debug_log is not None:
        if cancelled:
            debug_log.line("warn", "cancelled")
        debug_log.close()
    return {
        "event": "done",
        "success": success and not cancelled,
        "cancelled": cancelled,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
        "counts": relay.counts,
    }


def main() -> None:
    channel = Channel.take_stdio()
    messages = channel.messages()
    invocation = next(messages)
    server = threading.Thread(target=_serve_previews, args=(channel, messages), daemon=True)
    server.start()
    done = run(channel, invocation)
    # A second SIGINT after dbt finished must not turn into a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel.send(done)
    server.join()  # until the pod closes the channel (no preview of its own in flight)


if __name__ == "__main__":
    main()
