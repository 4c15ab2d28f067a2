"""Resolve client-supplied paths so that nothing outside the volume is ever touched."""

from __future__ import annotations

import os
from pathlib import Path

from .rpc import INVALID_PATH, RpcError

# The pod's own state on the volume (Y store, file ids); never shown or served.
RUNTIME_DIRNAME = ".ide"
HIDDEN_NAMES = frozenset({RUNTIME_DIRNAME, ".git"})


def resolve(root: Path, relative: str, *, allow_root: bool = False) -> Path:
    """Map a project-relative ``/``-separated path to an absolute path inside ``root``.

    Refuses absolute paths, NUL bytes, ``..`` components, the pod's hidden directories and
    anything whose real path (after following symlinks) leaves the volume or lands in a
    hidden directory. ``root`` must itself be a real path.
    """
    if not isinstance(relative, str) or "\x00" in relative:
        raise RpcError(INVALID_PATH, "path contains a NUL byte")
    if relative.startswith(("/", "\\")) or (len(relative) > 1 and relative[1] == ":"):
        raise RpcError(INVALID_PATH, f"path must be relative to the project root: {relative!r}")
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise RpcError(INVALID_PATH, f"path may not contain '..': {relative!r}")
    if not parts and not allow_root:
        raise RpcError(INVALID_PATH, "path names the project root")
    candidate = root.joinpath(*parts)
    confine(root, candidate, shown_as=relative)
    return candidate


def confine(root: Path, candidate: Path, *, shown_as: str) -> None:
    """Refuse ``candidate`` unless its real path is inside ``root`` and not a hidden directory.

    Checked on the real path, so a symlink (``cfg -> .``) or another spelling (``.GIT`` on a
    case-insensitive disk) cannot reach what the plain name could not.
    """
    real = Path(os.path.realpath(candidate))
    if real != root and root not in real.parents:
        raise RpcError(INVALID_PATH, f"path leaves the project: {shown_as!r}")
    if real != root:
        first = real.relative_to(root).parts[0]
        if first.casefold() in HIDDEN_NAMES:
            raise RpcError(INVALID_PATH, f"{first} is managed by the IDE and cannot be accessed")
    name = os.path.relpath(candidate, root).split(os.sep)[0]
    if name.casefold() in HIDDEN_NAMES:
        raise RpcError(INVALID_PATH, f"{name} is managed by the IDE and cannot be accessed")


def relative_to_root(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()
