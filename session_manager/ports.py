"""What the session manager needs from the process that hosts it, as small Protocols.

The session manager imports nothing of the gateway: the gateway passes in its database
(``ide_server.db.Database``) and its secret box (``ide_server.secrets.SecretBox``), which
satisfy these structurally. Tests may pass anything else that does.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import psycopg


class SessionDatabase(Protocol):
    """The metadata database, holding the ``sessions`` table (joined to users, projects).

    Calls raise ``ide_server.db.DatabaseUnavailable`` when PostgreSQL cannot be reached.
    """

    def transaction(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """A connection inside one transaction, committed when the block ends."""
        ...

    async def fetchone(self, sql: str, params: Any = None) -> dict[str, Any] | None: ...

    async def fetchall(self, sql: str, params: Any = None) -> list[dict[str, Any]]: ...

    async def execute(self, sql: str, params: Any = None) -> int:
        """Run one statement; returns the number of rows it touched."""
        ...


class TokenSealer(Protocol):
    """Seals a pod token for storage in its session row, bound to that row by ``aad``.

    ``decrypt`` raises ``ide_server.secrets.SecretError`` when the value cannot be opened.
    """

    def encrypt(self, plaintext: str, aad: str) -> str: ...

    def decrypt(self, token: str, aad: str) -> str: ...


class SessionMetrics(Protocol):
    """Where the session manager reports what a monitoring system counts (the gateway's
    Prometheus registry, :mod:`ide_server.gateway.metrics`)."""

    def start_finished(self, backend: str, status: str, seconds: float) -> None:
        """A start ended: ``status`` is ``ready``, ``failed``, ``timeout`` or ``cancelled``."""
        ...

    def reaper_pass(self, seconds: float) -> None:
        """One reaper pass (probe, record, stop) took ``seconds``."""
        ...
