"""``fs/read_binary``: a file as bytes (base64), for what the editor shows but cannot edit:
images, and the size of any other binary file.

It is also what the editor asks about a file it could not open: a file that is not there
answers NOT_FOUND with the same ``{"reason", "message"}`` a room puts in its state when
its file vanishes (:func:`.missing.describe_missing`), so a tab restored after a branch
switch says "not on this branch (it is on X)" rather than an HTTP status.
"""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from .missing import describe_missing
from .paths import resolve
from .rpc import INVALID_PATH, NOT_FOUND, MethodRegistry, RpcError
from .workspace import CallContext

methods = MethodRegistry()

# Past this size the bytes are not sent (a browser tab shows no image that large).
MAX_BINARY_BYTES = 8 * 1024 * 1024


@dataclass
class BinaryParams:
    path: str


class BinaryResult(TypedDict):
    path: str
    size: int
    # Whether the file is UTF-8 text (then the editor opens it); judged on its first 8 KiB.
    text: bool
    base64: str | None  # None past MAX_BINARY_BYTES


def read_binary(root: Path, relative: str) -> BinaryResult:
    path = resolve(root, relative)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        why = describe_missing(root, path.relative_to(root).as_posix())
        raise RpcError(NOT_FOUND, f"no such file: {relative}", why) from None
    except OSError:
        raise RpcError(INVALID_PATH, f"cannot read {relative}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RpcError(NOT_FOUND, f"not a file: {relative}")
        head = f.read(8192)
        data = (
            head + f.read(MAX_BINARY_BYTES + 1 - len(head))
            if info.st_size <= MAX_BINARY_BYTES
            else None
        )
    try:
        text = b"\x00" not in head and bool(head.decode("utf-8") or True)
    except UnicodeDecodeError:
        # A multi-byte character cut at the 8 KiB boundary is still text.
        text = b"\x00" not in head and _utf8_prefix(head)
    return {
        "path": relative,
        "size": info.st_size,
        "text": text,
        "base64": base64.b64encode(data).decode("ascii") if data is not None else None,
    }


def _utf8_prefix(head: bytes) -> bool:
    for cut in range(1, 4):
        try:
            head[:-cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


@methods.method(
    "fs/read_binary", BinaryParams, result=BinaryResult, errors=(INVALID_PATH, NOT_FOUND)
)
async def fs_read_binary(ctx: CallContext, params: BinaryParams) -> BinaryResult:
    return await asyncio.to_thread(read_binary, ctx.workspace.root, params.path)
