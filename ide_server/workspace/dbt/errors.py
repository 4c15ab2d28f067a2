"""The dbt method family's error codes and how the service's failures map onto them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import (
    ALREADY_EXISTS,
    COMPILE_ERROR,
    DBT_BUSY,
    NO_WAREHOUSE,
    NOT_DBT_PROJECT,
    NOT_FOUND,
    UNAVAILABLE,
    RpcError,
)
from .processes import ProcessGone
from .profiles import NoWarehouse


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn the service's exceptions into JSON-RPC errors a person can act on."""
    from .service import Busy, InvocationIdTaken, NotDbtProject

    try:
        yield
    except NotDbtProject as exc:
        raise RpcError(NOT_DBT_PROJECT, str(exc)) from None
    except NoWarehouse as exc:
        raise RpcError(NO_WAREHOUSE, str(exc)) from None
    except Busy as exc:
        running = exc.running
        data = {"invocation_id": running.invocation_id, "command": running.command.name}
        raise RpcError(DBT_BUSY, str(exc), data) from None
    except InvocationIdTaken as exc:
        raise RpcError(ALREADY_EXISTS, str(exc)) from None
    except ProcessGone as exc:
        raise RpcError(UNAVAILABLE, str(exc)) from None


def raise_for_compile(answer: dict[str, Any]) -> None:
    """Raise the RpcError for a worker answer that carries an error."""
    error = answer.get("error")
    if error is None:
        return
    kind = error.get("kind")
    if kind == "compile":
        data = {"path": error.get("path"), "line": error.get("line")}
        raise RpcError(COMPILE_ERROR, str(error.get("message")), data)
    if kind == "unknown":
        raise RpcError(NOT_FOUND, str(error.get("message")))
    raise RpcError(UNAVAILABLE, f"the dbt worker failed: {error.get('message')}")
