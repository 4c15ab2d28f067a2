"""The JSON-lines channel between the pod and its dbt processes (child side).

dbt prints to stdout and stderr as it pleases; the child keeps the pipes the pod gave it
for this channel and points its own file descriptors 1 and 2 elsewhere, so nothing dbt
prints can corrupt a message, and no preview row printed by dbt lands in a pod log.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO


class Channel:
    """Messages in on the original stdin, out on the original stdout; thread-safe sends."""

    def __init__(self, incoming: TextIO, outgoing: TextIO) -> None:
        self._in = incoming
        self._out = outgoing
        self._lock = threading.Lock()

    @classmethod
    def take_stdio(cls) -> Channel:
        """Keep stdin/stdout for the channel; send fds 0, 1 and 2 to /dev/null."""
        incoming = os.fdopen(os.dup(0), "r", encoding="utf-8")
        outgoing = os.fdopen(os.dup(1), "w", encoding="utf-8")
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        return cls(incoming, outgoing)

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def messages(self) -> Iterator[dict[str, Any]]:
        for line in self._in:
            line = line.strip()
            if line:
                yield json.loads(line)
