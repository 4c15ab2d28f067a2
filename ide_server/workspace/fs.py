"""``fs/*``: files of the project, every path confined to the volume."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

from ..durable import is_write_leftover, write_atomically
from .limits import TOO_LARGE, check_document_size, document_limit
from .paths import HIDDEN_NAMES, confine, resolve
from .rpc import (
    ALREADY_EXISTS,
    CONFLICT,
    INVALID_PATH,
    NOT_FOUND,
    NOT_TEXT,
    MethodRegistry,
    RpcError,
)
from .workspace import CallContext

methods = MethodRegistry()


class FsEntry(TypedDict):
    name: str
    path: str
    # A symlink is described by itself; target_type only for a link inside the volume.
    type: Literal["file", "directory", "symlink"]
    size: int
    mtime: float
    target_type: NotRequired[Literal["file", "directory"] | None]


class FsListResult(TypedDict):
    path: str
    entries: list[FsEntry]


class FsReadResult(TypedDict):
    path: str
    content: str
    mtime: float


class FsWriteResult(TypedDict):
    path: str
    mtime: float


class PathResult(TypedDict):
    path: str


class FsChanged(TypedDict):
    path: str
    kind: Literal["write", "delete", "rename", "mkdir"]
    new_path: NotRequired[str]


methods.notification("fs/changed", FsChanged)


@dataclass
class PathParams:
    path: str


@dataclass
class ListParams:
    path: str = ""


@dataclass
class WriteParams:
    path: str
    content: str
    expected_mtime: float | None = None


@dataclass
class RenameParams:
    path: str
    new_path: str


def _stat(path: Path, relative: str) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        raise RpcError(NOT_FOUND, f"no such file or directory: {relative}") from None


def _list(root: Path, relative: str) -> dict[str, Any]:
    directory = resolve(root, relative, allow_root=True)
    if not stat.S_ISDIR(_stat(directory, relative).st_mode):
        raise RpcError(NOT_FOUND, f"not a directory: {relative}")
    entries: list[dict[str, Any]] = []
    for entry in os.scandir(directory):
        if directory == root and entry.name.casefold() in HIDDEN_NAMES:
            continue
        if is_write_leftover(entry.name):  # a save in progress, or a crash's leftover
            continue
        path = f"{relative.strip('/')}/{entry.name}".lstrip("/")
        entries.append(_describe(root, entry, path))
    entries.sort(key=lambda e: (e["type"] != "directory", e["name"].lower()))
    return {"path": relative.strip("/"), "entries": entries}


def _describe(root: Path, entry: os.DirEntry[str], path: str) -> dict[str, Any]:
    """One listing entry. A symlink is described by itself (lstat), never by its target:
    a link out of the volume must not reveal the size or age of what it points at."""
    info = entry.stat(follow_symlinks=False)
    described: dict[str, Any] = {"name": entry.name, "path": path}
    if stat.S_ISLNK(info.st_mode):
        described["type"] = "symlink"
        described["target_type"] = _link_target_type(root, Path(entry.path))
    else:
        described["type"] = "directory" if stat.S_ISDIR(info.st_mode) else "file"
    described["size"] = info.st_size
    described["mtime"] = info.st_mtime
    return described


def _link_target_type(root: Path, link: Path) -> str | None:
    """ "file" or "directory" for a link that stays inside the volume, else None.

    Only a target that fs/* would serve anyway is looked at; for any other (outside the
    volume, in a hidden directory, dangling) the answer is the same None.
    """
    try:
        confine(root, link, shown_as=link.name)
        info = link.stat()
    except (RpcError, OSError):
        return None
    return "directory" if stat.S_ISDIR(info.st_mode) else "file"


def _read(root: Path, relative: str, max_bytes: int) -> dict[str, Any]:
    path = resolve(root, relative)
    info = _stat(path, relative)
    if stat.S_ISDIR(info.st_mode):
        raise RpcError(NOT_TEXT, f"is a directory: {relative}")
    check_document_size(relative, info.st_size, max_bytes)
    data = path.read_bytes()
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RpcError(NOT_TEXT, f"not a UTF-8 text file: {relative}") from None
    return {"path": relative, "content": content, "mtime": info.st_mtime}


def _write(root: Path, params: WriteParams, limit: int) -> dict[str, Any]:
    path = resolve(root, params.path)
    if path.is_dir():
        raise RpcError(ALREADY_EXISTS, f"is a directory: {params.path}")
    if params.expected_mtime is not None and path.exists():
        if abs(path.stat().st_mtime - params.expected_mtime) > 1e-6:
            raise RpcError(CONFLICT, f"{params.path} changed on disk since it was read")
    data = params.content.encode("utf-8")
    check_document_size(params.path, len(data), limit)
    write_atomically(path, data)
    return {"path": params.path, "mtime": path.stat().st_mtime}


def _rename(root: Path, params: RenameParams) -> dict[str, Any]:
    source = resolve(root, params.path)
    target = resolve(root, params.new_path)
    _stat(source, params.path)
    if target.exists() or target.is_symlink():
        raise RpcError(ALREADY_EXISTS, f"already exists: {params.new_path}")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(source, target)
    return {"path": params.new_path}


def _delete(root: Path, relative: str) -> dict[str, Any]:
    path = resolve(root, relative)
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    else:
        raise RpcError(NOT_FOUND, f"no such file or directory: {relative}")
    return {"path": relative}


def _mkdir(root: Path, relative: str) -> dict[str, Any]:
    path = resolve(root, relative)
    if path.exists():
        raise RpcError(ALREADY_EXISTS, f"already exists: {relative}")
    path.mkdir(parents=True)
    return {"path": relative}


@methods.method("fs/list", ListParams, result=FsListResult, errors=(INVALID_PATH, NOT_FOUND))
async def fs_list(ctx: CallContext, params: ListParams) -> dict[str, Any]:
    return await asyncio.to_thread(_list, ctx.workspace.root, params.path)


@methods.method(
    "fs/read",
    PathParams,
    result=FsReadResult,
    errors=(INVALID_PATH, NOT_FOUND, NOT_TEXT, TOO_LARGE),
)
async def fs_read(ctx: CallContext, params: PathParams) -> dict[str, Any]:
    limit = document_limit(ctx.workspace.config)
    return await asyncio.to_thread(_read, ctx.workspace.root, params.path, limit)


@methods.method(
    "fs/write",
    WriteParams,
    result=FsWriteResult,
    writes=True,
    errors=(INVALID_PATH, ALREADY_EXISTS, CONFLICT, TOO_LARGE),
    guest_mode="edit",
)
async def fs_write(ctx: CallContext, params: WriteParams) -> dict[str, Any]:
    limit = document_limit(ctx.workspace.config)
    result = await asyncio.to_thread(_write, ctx.workspace.root, params, limit)
    await ctx.workspace.files_changed_on_disk()
    await ctx.broadcast("fs/changed", {"path": params.path, "kind": "write"})
    return result


@methods.method(
    "fs/rename",
    RenameParams,
    result=PathResult,
    writes=True,
    errors=(INVALID_PATH, NOT_FOUND, ALREADY_EXISTS),
    guest_mode="edit",
)
async def fs_rename(ctx: CallContext, params: RenameParams) -> dict[str, Any]:
    result = await asyncio.to_thread(_rename, ctx.workspace.root, params)
    await ctx.workspace.files_changed_on_disk()
    await ctx.broadcast(
        "fs/changed", {"path": params.path, "kind": "rename", "new_path": params.new_path}
    )
    return result


@methods.method(
    "fs/delete",
    PathParams,
    result=PathResult,
    writes=True,
    errors=(INVALID_PATH, NOT_FOUND),
    guest_mode="edit",
)
async def fs_delete(ctx: CallContext, params: PathParams) -> dict[str, Any]:
    result = await asyncio.to_thread(_delete, ctx.workspace.root, params.path)
    await ctx.workspace.files_changed_on_disk()
    await ctx.broadcast("fs/changed", {"path": params.path, "kind": "delete"})
    return result


@methods.method(
    "fs/mkdir",
    PathParams,
    result=PathResult,
    writes=True,
    errors=(INVALID_PATH, ALREADY_EXISTS),
    guest_mode="edit",
)
async def fs_mkdir(ctx: CallContext, params: PathParams) -> dict[str, Any]:
    result = await asyncio.to_thread(_mkdir, ctx.workspace.root, params.path)
    await ctx.broadcast("fs/changed", {"path": params.path, "kind": "mkdir"})
    return result
