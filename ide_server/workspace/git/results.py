"""Results and notifications of the ``git/*`` methods, as the frontend receives them.

These types are the declarations the protocol generator reads (docs/protocol.md describes
each field); the repository functions build plain dicts of these shapes.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

FileStatus = Literal["modified", "added", "deleted", "renamed", "untracked", "conflicted"]
NetworkOp = Literal["fetch", "pull", "clone", "push"]


class StatusFile(TypedDict):
    path: str
    status: FileStatus
    staged: bool
    unstaged: bool
    old_path: NotRequired[str]


class GitStatus(TypedDict):
    branch: str | None
    head: str | None
    upstream: str | None
    upstream_gone: bool
    ahead: int
    behind: int
    merging: bool
    merge_message: NotRequired[str]
    default_branch: str
    protected: bool
    files: list[StatusFile]


class DiffLine(TypedDict):
    origin: Literal[" ", "+", "-"]
    content: str
    old_lineno: int | None
    new_lineno: int | None


class DiffHunk(TypedDict):
    header: str
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[DiffLine]


class FileDiff(TypedDict):
    path: str
    old_path: str
    status: str
    binary: bool
    additions: int
    deletions: int
    too_large: bool
    patch: str
    hunks: list[DiffHunk]
    old_text: NotRequired[str | None]  # with a path, for text files
    new_text: NotRequired[str | None]


class DiffResult(TypedDict):
    staged: bool
    path: str | None
    files: list[FileDiff]


class PathsResult(TypedDict):
    paths: list[str]


class CommitResult(TypedDict):
    commit: str
    branch: str


class LocalBranch(TypedDict):
    name: str
    commit: str
    upstream: str | None
    ahead: int
    behind: int
    gone: bool


class RemoteBranch(TypedDict):
    name: str
    commit: str


class RemoteFetch(TypedDict):
    """The background fetch (``git/refresh_remote``): running, or how the last one ended."""

    state: Literal["idle", "fetching", "done", "failed"]
    message: str | None  # why it failed
    finished_at: float | None  # seconds since the epoch
    new_branches: list[str]  # remote branches it found that were not known before
    updated_branches: list[str]
    received_objects: NotRequired[int]  # while fetching
    total_objects: NotRequired[int]


class Branches(TypedDict):
    current: str | None
    local: list[LocalBranch]
    remote: list[RemoteBranch]
    fetch: RemoteFetch


class CreateBranchResult(TypedDict):
    branch: str
    commit: str
    base: str


class CheckoutResult(TypedDict):
    branch: str
    commit: str


class FetchResult(TypedDict):
    received_objects: int
    total_objects: int


class KeptBranch(TypedDict):
    name: str
    reason: str


class PruneResult(TypedDict):
    deleted: list[str]
    kept: list[KeptBranch]
    dry_run: bool


class PullResult(TypedDict):
    outcome: Literal["up-to-date", "fast-forward", "merged", "conflicts", "no-upstream"]
    branch: str
    source: str | None
    commit: NotRequired[str]
    conflicts: list[str]
    message: NotRequired[str]


class PushResult(TypedDict):
    branch: str
    remote_branch: str
    commit: str
    upstream_set: bool


class GitCancelResult(TypedDict):
    cancelled: str | None  # the name of the operation asked to stop


class ResolveResult(TypedDict):
    path: str
    remaining: list[str]


class AbortMergeResult(TypedDict):
    aborted: Literal[True]
    restored: list[str]


class Person(TypedDict):
    name: str
    email: str
    time: int
    offset: int


class Commit(TypedDict):
    id: str
    short_id: str
    summary: str
    message: str
    author: Person
    committer: Person
    parents: list[str]


class LogResult(TypedDict):
    commits: list[Commit]
    next_skip: int | None


class PullRequestUrl(TypedDict):
    url: str | None  # None: the remote is not a known provider
    provider: Literal["github", "gitlab", "azure"] | None
    branch: str | None
    base: str


class ShowResult(TypedDict):
    commit: Commit
    files: list[FileDiff]


class RevertResult(TypedDict):
    commit: str
    reverted: str
    branch: str


class GitChanged(TypedDict):
    op: str


class GitProgress(TypedDict):
    """While receiving (fetch, pull, clone) or while pushing; the other side's fields absent."""

    op: NetworkOp
    received_objects: NotRequired[int]
    indexed_objects: NotRequired[int]
    total_objects: int
    indexed_deltas: NotRequired[int]
    total_deltas: NotRequired[int]
    received_bytes: NotRequired[int]
    pushed_objects: NotRequired[int]
    pushed_bytes: NotRequired[int]
