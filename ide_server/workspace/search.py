"""``fs/search`` and ``fs/files``: find text and files in the project, bounded in time.

Walks the volume without following symlinks (a link out of the volume is never read, a
link inside it is found at its target's own path), skips the pod's hidden directories,
``.git`` anywhere, what the checkout's ``.gitignore`` files ignore, binary files and files
past the document limit. Stops at ``max_results`` matches or after a few seconds, and
says so (``truncated``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

import pygit2
from pygit2.enums import RepositoryOpenFlag

from ..durable import is_write_leftover
from .limits import document_limit
from .paths import HIDDEN_NAMES
from .registry import NoParams
from .rpc import INVALID_PARAMS, MethodRegistry, RpcError
from .workspace import CallContext

methods = MethodRegistry()

DEFAULT_RESULTS = 500
MAX_RESULTS = 5000
TIME_BUDGET_SECONDS = 5.0
MAX_FILES = 20_000
# A line longer than this is shown cut; a match is looked for in the whole line.
SHOWN_LINE_CHARS = 400
# Lines this long (minified data, not code) are not searched: a regex on them can crawl.
LONGEST_SEARCHED_LINE = 20_000


@dataclass
class SearchParams:
    query: str
    regex: bool = False
    case_sensitive: bool = False
    glob: str | None = None
    max_results: int = DEFAULT_RESULTS


class SearchMatch(TypedDict):
    path: str
    line: int  # 1-based
    column: int  # 1-based, in characters
    length: int  # characters matched
    text: str  # the line, cut at SHOWN_LINE_CHARS


class FilesResult(TypedDict):
    paths: list[str]
    truncated: bool


class SearchResult(TypedDict):
    matches: list[SearchMatch]
    files_searched: int
    truncated: bool
    # Why the search stopped early: too many matches, or out of time.
    truncated_by: Literal["results", "time"] | None


def compile_query(params: SearchParams) -> re.Pattern[str]:
    if not params.query:
        raise RpcError(INVALID_PARAMS, "query must not be empty")
    if not 1 <= params.max_results <= MAX_RESULTS:
        raise RpcError(INVALID_PARAMS, f"max_results must be between 1 and {MAX_RESULTS}")
    source = params.query if params.regex else re.escape(params.query)
    flags = 0 if params.case_sensitive else re.IGNORECASE
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise RpcError(INVALID_PARAMS, f"invalid regular expression: {exc}") from None


class _Ignored:
    """What the checkout's .gitignore files ignore (nothing when it is not a git checkout)."""

    def __init__(self, root: Path) -> None:
        self._repo: pygit2.Repository | None = None
        if (root / ".git").is_dir():
            try:
                repo = pygit2.Repository(str(root), RepositoryOpenFlag.NO_SEARCH)
            except pygit2.GitError:
                return
            if os.path.realpath(repo.path) == os.path.realpath(root / ".git"):
                self._repo = repo

    def __call__(self, relative: str, is_dir: bool) -> bool:
        if self._repo is None:
            return False
        try:
            return bool(self._repo.path_is_ignored(relative + ("/" if is_dir else "")))
        except pygit2.GitError:
            return False


def _glob_matches(glob: str | None, relative: str) -> bool:
    if not glob:
        return True
    if "/" not in glob:
        return fnmatch.fnmatchcase(relative.rsplit("/", 1)[-1], glob)
    return fnmatch.fnmatchcase(relative, glob)


def _walk(root: Path, deadline: float) -> Iterator[tuple[Path, str] | None]:
    """``(path, relative)`` of each file a search may read; None once out of time."""
    ignored = _Ignored(root)
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(directory)
        prefix = "" if base == root else base.relative_to(root).as_posix() + "/"
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not (prefix == "" and name.casefold() in HIDDEN_NAMES)
            and name.casefold() != ".git"
            and not (base / name).is_symlink()
            and not ignored(prefix + name, True)
        )
        for name in sorted(filenames):
            if time.monotonic() > deadline:
                yield None
                return
            relative = prefix + name
            if is_write_leftover(name) or ignored(relative, False):
                continue
            yield base / name, relative


def search(root: Path, params: SearchParams, limit: int) -> SearchResult:
    pattern = compile_query(params)
    matches: list[SearchMatch] = []
    searched = 0
    truncated_by: Literal["results", "time"] | None = None
    for item in _walk(root, time.monotonic() + TIME_BUDGET_SECONDS):
        if item is None:
            truncated_by = "time"
            break
        path, relative = item
        if not _glob_matches(params.glob, relative):
            continue
        lines = _text_lines(path, limit)
        if lines is None:
            continue
        searched += 1
        for number, line in enumerate(lines, start=1):
            if len(line) > LONGEST_SEARCHED_LINE:
                continue
            for found in pattern.finditer(line):
                if found.end() == found.start():
                    continue  # an empty match (``x*``) marks nothing
                matches.append(
                    {
                        "path": relative,
                        "line": number,
                        "column": found.start() + 1,
                        "length": found.end() - found.start(),
                        "text": line[:SHOWN_LINE_CHARS],
                    }
                )
                if len(matches) >= params.max_results:
                    truncated_by = "results"
                    break
            if truncated_by:
                break
        if truncated_by:
            break
    return {
        "matches": matches,
        "files_searched": searched,
        "truncated": truncated_by is not None,
        "truncated_by": truncated_by,
    }


def project_files(root: Path) -> FilesResult:
    """Every file a search would read (for opening files by name), in walk order."""
    paths: list[str] = []
    truncated = False
    for item in _walk(root, time.monotonic() + TIME_BUDGET_SECONDS):
        if item is None or len(paths) >= MAX_FILES:
            truncated = True
            break
        path, relative = item
        if not path.is_symlink():
            paths.append(relative)
    return {"paths": paths, "truncated": truncated}


def _text_lines(path: Path, limit: int) -> list[str] | None:
    """The file's lines if it is a regular text file within the limit (never via a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = f.read(limit + 1)
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


@methods.method("fs/search", SearchParams, result=SearchResult)
async def fs_search(ctx: CallContext, params: SearchParams) -> SearchResult:
    root = ctx.workspace.root
    return await asyncio.to_thread(search, root, params, document_limit(ctx.workspace.config))


@methods.method("fs/files", NoParams, result=FilesResult)
async def fs_files(ctx: CallContext, params: NoParams) -> FilesResult:
    return await asyncio.to_thread(project_files, ctx.workspace.root)
