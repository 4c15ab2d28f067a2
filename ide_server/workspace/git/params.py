"""Params of the ``git/*`` methods, as dataclasses the RPC dispatcher validates."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..registry import NoParams as NoParams  # one NoParams for the whole protocol


@dataclass(frozen=True)
class DiffParams:
    path: str | None = None
    staged: bool = False


@dataclass(frozen=True)
class PathsParams:
    paths: list[str] | None = None  # None: every changed file


@dataclass(frozen=True)
class CommitParams:
    message: str
    paths: list[str] | None = None


@dataclass(frozen=True)
class CreateBranchParams:
    name: str
    base: str | None = None  # default: the project's primary branch
    checkout: bool = True


@dataclass(frozen=True)
class CheckoutParams:
    branch: str


@dataclass(frozen=True)
class PruneParams:
    dry_run: bool = False


@dataclass(frozen=True)
class RefreshRemoteParams:
    wait: bool = False  # answer when the fetch ends, not when it starts


@dataclass(frozen=True)
class FetchParams:
    prune: bool = False


def _pull_init(self: Any, **values: Any) -> None:
    object.__setattr__(self, "from", values.get("from"))


# ``git/pull`` takes ``{"from": "main"}`` ("pull from main"). ``from`` is a Python keyword,
# so the generated ``__init__``, ``__repr__`` and ``__eq__`` cannot name it (their source
# would not parse); this class is built by hand and takes it as a keyword argument.
PullParams: type = dataclasses.dataclass(frozen=True, init=False, repr=False, eq=False)(
    type(
        "PullParams",
        (),
        {
            "__module__": __name__,
            "__annotations__": {"from": "str | None"},
            "from": None,
            "__init__": _pull_init,
            "__doc__": "Params of git/pull: the branch to merge in, default the upstream.",
        },
    )
)


def pull_source(params: Any) -> str | None:
    return getattr(params, "from")


@dataclass(frozen=True)
class ResolveParams:
    path: str
    force: bool = False  # keep the file even if it still holds conflict markers


@dataclass(frozen=True)
class LogParams:
    path: str | None = None
    ref: str | None = None
    skip: int = 0
    limit: int = 50


@dataclass(frozen=True)
class RevertParams:
    commit: str
