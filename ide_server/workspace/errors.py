"""Every error code the pod answers, declared once: its name, its code and what it means.

The generator (:mod:`.protocol_gen`) writes this table into the frontend's ``ErrorCode``
and into :mod:`ide_server.protocol`; a test checks that every code is in
docs/protocol.md. A method lists the codes it may answer in its registration
(:meth:`.registry.MethodRegistry.method`); the codes of :data:`COMMON_ERRORS` may come
from any method. This module imports nothing of the pod, so it can be read anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    name: str  # snake_case; the frontend's name is its camelCase
    code: int
    meaning: str  # one line, for people reading the generated files


ERROR_CODES: dict[int, ErrorCode] = {}


def _declare(name: str, code: int, meaning: str) -> int:
    if code in ERROR_CODES:
        raise ValueError(f"error code {code} declared twice")
    ERROR_CODES[code] = ErrorCode(name, code, meaning)
    return code


# JSON-RPC 2.0's reserved codes.
PARSE_ERROR = _declare("parse_error", -32700, "the message is not valid JSON")
INVALID_REQUEST = _declare("invalid_request", -32600, "not a JSON-RPC 2.0 request object")
METHOD_NOT_FOUND = _declare("method_not_found", -32601, "unknown method")
INVALID_PARAMS = _declare("invalid_params", -32602, "missing, unknown or mistyped params")
INTERNAL_ERROR = _declare(
    "internal_error", -32603, "the method failed on the server (details in the pod log)"
)
# The IDE's own codes, -32001 to -32009 for every family.
FORBIDDEN = _declare(
    "forbidden", -32001, "the caller's role or share mode does not allow the method"
)
INVALID_PATH = _declare("invalid_path", -32002, "the path is outside the project or hidden")
NOT_FOUND = _declare("not_found", -32003, "not found")
ALREADY_EXISTS = _declare("already_exists", -32004, "already exists")
NOT_TEXT = _declare("not_text", -32005, "not a UTF-8 text file (or too large to edit)")
CONFLICT = _declare("conflict", -32006, "the file changed since the caller read it")
UNAVAILABLE = _declare(
    "unavailable", -32007, "a dependency did not answer, or too many calls are in flight"
)
TOO_LARGE = _declare(
    "too_large", -32008, "larger than a document can be and still be opened in the editor"
)
# git, -32010 to -32029.
PROTECTED_BRANCH = _declare(
    "protected_branch", -32010, "the protected primary branch only follows the remote's"
)
NOTHING_TO_COMMIT = _declare("nothing_to_commit", -32011, "nothing to commit")
EMPTY_MESSAGE = _declare("empty_message", -32012, "empty commit message")
UNCOMMITTED_CHANGES = _declare(
    "uncommitted_changes", -32013, "the operation would overwrite uncommitted changes"
)
PUSH_REJECTED = _declare("push_rejected", -32014, "the remote branch has commits you lack")
AUTH_FAILED = _declare("auth_failed", -32015, "the remote refused the credentials")
WRONG_STATE = _declare(
    "wrong_state", -32016, "detached HEAD, a merge in progress or none, not a checkout"
)
CANCELLED = _declare("cancelled", -32017, "cancelled with git/cancel; nothing was changed")
CERTIFICATE = _declare("certificate", -32018, "the remote's TLS certificate is not trusted")
REMOTE_REFUSED = _declare("remote_refused", -32019, "the remote URL is refused by policy")
UNRESOLVED_CONFLICTS = _declare("unresolved_conflicts", -32020, "unresolved merge conflicts")
BUSY = _declare("busy", -32021, "another git operation is running")
RESERVED_PATHS = _declare(
    "reserved_paths", -32022, "the commit tracks paths the IDE reserves (.ide/, .git/)"
)
# query, -32030 to -32039.
SQL_REFUSED = _declare(
    "sql_refused", -32030, "the SQL does not parse or is not exactly one read statement"
)
# dbt, -32040 to -32049.
COMPILE_ERROR = _declare(
    "compile_error", -32040, "dbt could not compile the node or SQL; data.path and data.line"
)
DBT_BUSY = _declare("dbt_busy", -32041, "another dbt command that writes is running")
NOT_DBT_PROJECT = _declare("not_dbt_project", -32042, "the project has no dbt_project.yml")
NO_WAREHOUSE = _declare(
    "no_warehouse", -32043, "the project has no warehouse connection (an admin sets it)"
)
# The sentence of NO_WAREHOUSE, the same wherever it is answered.
NO_WAREHOUSE_MESSAGE = (
    "this project has no warehouse connection; an admin sets it in the project's settings"
)
LINT_FAILED = _declare(
    "lint_failed", -32061, "the linter or formatter failed, timed out or cannot parse the file"
)

# Codes any method may answer: the dispatcher's own, and the in-flight limit.
COMMON_ERRORS: tuple[int, ...] = (
    PARSE_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    INVALID_PARAMS,
    INTERNAL_ERROR,
    UNAVAILABLE,
)


class RpcError(Exception):
    """An error answered to the client as a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = dict(data) if data else None

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error
