"""The debug log of one invocation: every dbt event, debug level included, one line each.

Runs in the command's process as a second dbtRunner callback, writing
``<spool>/<invocation_id>/dbt.log`` as the events arrive (so a running invocation's log
can be read while it grows). ``dbt show`` logs the rows it shows (event ``ShowNode``);
with ``hide_rows`` those events are replaced by a line saying so: rows never reach a file.
"""

from __future__ import annotations

import re
import time
from typing import Any, TextIO

ROW_EVENTS = frozenset({"ShowNode"})
_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours its console lines


class DebugLog:
    def __init__(self, path: str, *, hide_rows: bool) -> None:
        self._file: TextIO | None = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._hide_rows = hide_rows

    def __call__(self, event: Any) -> None:
        if self._file is None:
            return
        try:
            info = event.info
            name = str(info.name)
            msg = _COLOURS.sub("", str(info.msg))
            if self._hide_rows and name in ROW_EVENTS:
                msg = "(the rows shown are not logged)"
            ts = info.ts.ToJsonString() if info.HasField("ts") else ""
            self._file.write(f"{ts} [{info.level}] {name}: {msg}\n")
            self._file.flush()
        except Exception:  # a malformed event must never end the invocation
            return

    def line(self, level: str, msg: str) -> None:
        if self._file is not None:
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self._file.write(f"{ts} [{level}] {msg}\n")
            self._file.flush()

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
