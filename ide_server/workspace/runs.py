"""Long operations named by the client: a preview's ``query_id``, a dbt ``invocation_id``.

The client picks the id and sends it with the request that starts the operation, so it
knows which notifications are its own before the first one can arrive: there is no reply
to wait for, and nothing to buffer. The pod checks the id (:func:`check_client_id`) and
keeps it unique among that client's running operations (:class:`ClientRuns`); two tabs
may use the same ids without seeing each other's operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Generic, TypeVar

from .errors import ALREADY_EXISTS, RpcError
from .rpc import Client

MAX_ID_LENGTH = 64
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")

T = TypeVar("T")


def check_client_id(value: str, field: str) -> None:
    """Refuse an id that is not 1-64 letters, digits or ``_.:-``; ValueError says why.

    Called from a params dataclass's ``__post_init__``, so the client gets INVALID_PARAMS.
    """
    if not 1 <= len(value) <= MAX_ID_LENGTH or not _ID.fullmatch(value):
        raise ValueError(
            f"{field} must be 1 to {MAX_ID_LENGTH} letters, digits or '_', '.', ':', '-', "
            "starting with a letter or digit (a UUID will do)"
        )


class ClientRuns(Generic[T]):
    """The running operations of one pod, keyed by (client, the id that client chose)."""

    def __init__(self, what: str) -> None:
        self._what = what  # "query_id", "invocation_id": named in the error
        self._runs: dict[tuple[int, str], T] = {}

    def claim(self, client: Client, run_id: str, run: T) -> None:
        """Record ``run`` under ``run_id``; ALREADY_EXISTS if this client already runs one."""
        key = (id(client), run_id)
        if key in self._runs:
            raise RpcError(
                ALREADY_EXISTS,
                f"{self._what} {run_id!r} is already running in this tab; choose a new one",
            )
        self._runs[key] = run

    def get(self, client: Client, run_id: str) -> T | None:
        return self._runs.get((id(client), run_id))

    def release(self, client: Client, run_id: str) -> None:
        self._runs.pop((id(client), run_id), None)

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._runs.values()))
