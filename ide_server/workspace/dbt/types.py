"""The params and results of ``dbt/*`` and its notifications, as the registry declares them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from ..runs import check_client_id


@dataclass(frozen=True)
class CompileParams:
    path: str
    content: str | None = None  # the editor's unsaved buffer, compiled in the node's place


@dataclass(frozen=True)
class RunParams:
    invocation_id: str  # chosen by the client, unique in this session
    command: str
    args: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_client_id(self.invocation_id, "invocation_id")


@dataclass(frozen=True)
class CancelParams:
    invocation_id: str


@dataclass(frozen=True)
class HistoryParams:
    limit: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 200:
            raise ValueError("limit must be from 1 to 200")


@dataclass(frozen=True)
class LineageParams:
    path: str | None = None
    unique_id: str | None = None
    upstream: int = 2
    downstream: int = 2

    def __post_init__(self) -> None:
        if (self.path is None) == (self.unique_id is None):
            raise ValueError("give either path or unique_id")
        if not (0 <= self.upstream <= 50 and 0 <= self.downstream <= 50):
            raise ValueError("upstream and downstream must be from 0 to 50")


class CompileResult(TypedDict):
    path: str
    compiled_sql: str
    elapsed_ms: float


class RunResult(TypedDict):
    invocation_id: str


class CancelResult(TypedDict):
    invocation_id: str
    cancelled: bool  # false: it had already finished, or is unknown


# "pass" is a Python keyword: the functional form.
DbtCounts = TypedDict("DbtCounts", {"pass": int, "warn": int, "error": int, "skip": int})


class DbtInvocation(TypedDict):
    invocation_id: str
    command: str
    args: list[str]
    user: str
    branch: str | None
    commit: str | None
    started_at: float  # seconds since the epoch
    elapsed_ms: float | None  # None while it runs
    status: str  # running | success | error | cancelled
    counts: DbtCounts


class HistoryResult(TypedDict):
    invocations: list[DbtInvocation]


class LineageNode(TypedDict):
    unique_id: str
    name: str
    resource_type: str
    path: str


class StaleParse(TypedDict):
    """The project does not parse now: the answer is from the last parse that worked."""

    message: str  # dbt's parse error
    path: str | None  # the file it names, if any
    line: int | None


class LineageResult(TypedDict):
    nodes: list[LineageNode]
    edges: list[list[str]]  # [parent unique_id, child unique_id]
    stale: NotRequired[StaleParse]


class CatalogNode(TypedDict):
    name: str
    unique_id: str
    path: str
    description: str
    columns: list[str]


class CatalogSource(TypedDict):
    source: str
    table: str
    unique_id: str
    description: str
    columns: list[str]


class CatalogMacro(TypedDict):
    name: str
    package: str
    arguments: list[str]


class CatalogResult(TypedDict):
    models: list[CatalogNode]
    seeds: list[CatalogNode]
    snapshots: list[CatalogNode]
    sources: list[CatalogSource]
    macros: list[CatalogMacro]
    stale: NotRequired[StaleParse]


class DbtLog(TypedDict):
    invocation_id: str
    ts: str | None  # ISO 8601, from dbt's event
    level: str  # debug | info | warn | error
    msg: str
    node: NotRequired[str]  # unique_id of the node the line is about


class DbtNode(TypedDict):
    invocation_id: str
    unique_id: str
    status: str  # dbt's: success, error, fail, warn, pass, skipped, ...
    elapsed_ms: float
    message: NotRequired[str]


class DbtDone(TypedDict):
    invocation_id: str
    success: bool
    cancelled: bool
    elapsed_ms: float
    counts: DbtCounts
