"""The one size limit of a document, applied the same way on every path.

A file is only useful if it can be opened again: by ``fs/read`` (one JSON-RPC answer, in
which escaping can double the text) and by a collaborative room (its first sync is one
WebSocket frame holding the whole document). Both must fit the pod's and the gateway's
message limit, so a document may be at most half of it. ``fs/read``, ``fs/write``, a room
opening a file, a room growing and a room saving all check this one number.
"""

from __future__ import annotations

from .config import PodConfig
from .errors import TOO_LARGE, RpcError


def document_limit(config: PodConfig) -> int:
    """The largest document, in UTF-8 bytes, that every path can open again."""
    return config.max_message_bytes // 2


def too_large_message(path: str, size: int, limit: int) -> str:
    return (
        f"{path} would be {size // 1024} KiB, larger than the {limit // 1024} KiB "
        "a file can have to be opened in the editor"
    )


def check_document_size(path: str, size: int, limit: int) -> None:
    """Refuse a document of ``size`` bytes past ``limit``, saying so."""
    if size > limit:
        raise RpcError(TOO_LARGE, too_large_message(path, size, limit), {"limit": limit})
