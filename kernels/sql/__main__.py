"""``python -m kernels.sql -f <connection file>``: start the SQL preview kernel."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .kernel import SqlKernel
from .wire import ConnectionInfo, WireError

USAGE = "usage: python -m kernels.sql -f <connection file>"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "-f":
        print(USAGE, file=sys.stderr)
        return 2
    # The kernel's log goes to its own stderr, the pod's log. Nothing else writes there:
    # the kernel prints nothing a client should see (its events are display_data messages)
    # and DuckDB's one writer, the progress bar, is off (see kernels.warehouses.duckdb).
    logging.basicConfig(level=logging.WARNING, format="[ide-sql %(levelname)s] %(message)s")
    try:
        connection = ConnectionInfo.read(Path(argv[1]))
    except WireError as exc:
        print(f"kernels.sql: {exc}", file=sys.stderr)
        return 2
    SqlKernel(connection).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
