"""The volume's reserved directories can never be populated by git.

The pod keeps its own state on the volume under ``.ide/`` (the Y store, the file-id
database, the clone marker) and libgit2 keeps the repository under ``.git/``. A commit that
tracks files there, under a spelling that a case-insensitive, Unicode-normalising or
Windows-style filesystem (or Jupyter's path handling) folds onto them, or that reaches
them through a symlink, would let a branch change what the pod runs or reads.

Every operation that writes the working tree from a tree — clone, checkout, pull (fast
forward or merge), merge, revert, and any reset to come — first passes the tree it is
about to write through :func:`refuse_reserved_entries`. The check is lexical, on the
tree's own entries, so it holds before a single file is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pygit2
from pygit2.enums import FileMode

from ..paths import HIDDEN_NAMES
from ..rpc import RpcError
from .errors import RESERVED_PATHS

# ``.ide`` and ``.git``: the pod's and libgit2's own directories at the volume's root.
RESERVED_ROOT_NAMES = HIDDEN_NAMES
# A nested ``.git`` would make a second repository inside the checkout.
RESERVED_ANYWHERE = frozenset({".git"})
# A symlinked ``.gitmodules`` or ``.gitattributes`` makes git read a file it did not check.
NO_SYMLINK_NAMES = frozenset({".gitmodules", ".gitattributes", ".gitignore"})
# Code points HFS+ ignores in names, so ``.i\u200cde`` is ``.ide`` there.
_IGNORABLE = dict.fromkeys(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)
# Windows short names (``IDE~1`` for ``.ide``) on vfat, NTFS and SMB mounts.
_SHORT_NAME = re.compile(r"(.+)~\d+")
MAX_LISTED = 20


@dataclass(frozen=True)
class Entry:
    path: str  # "/"-separated, as the tree spells it
    mode: int
    target: bytes | None = None  # a symlink's target


def fold(name: str) -> str:
    """One spelling for every name a filesystem could treat as the same file."""
    name = unicodedata.normalize("NFKC", name).translate(_IGNORABLE).casefold()
    # NTFS drops trailing dots and spaces and reads ``name::$DATA`` as ``name``.
    return name.split(":", 1)[0].rstrip(" .") or name


def _is_reserved(name: str, reserved: frozenset[str]) -> bool:
    folded = fold(name)
    if folded in reserved:
        return True
    short = _SHORT_NAME.fullmatch(folded)
    return short is not None and "." + short.group(1) in reserved


def components(path: str) -> list[str]:
    """Path components as a filesystem or Jupyter would walk them (``./x``, ``a\\b``, ``a//b``)."""
    return [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]


def problems(entries: Iterable[Entry]) -> list[str]:
    """Each entry the working tree must never receive, with the reason, in path order."""
    entries = list(entries)
    links = {
        tuple(fold(p) for p in components(e.path))
        for e in entries
        if e.mode in (FileMode.LINK, FileMode.COMMIT)
    }
    found: list[str] = []
    for entry in entries:
        reason = _problem(entry, links)
        if reason:
            found.append(f"{entry.path} ({reason})")
    return sorted(found)


def _problem(entry: Entry, links: set[tuple[str, ...]]) -> str | None:
    parts = components(entry.path)
    if not parts or ".." in parts:
        return "not a path inside the project"
    if _is_reserved(parts[0], RESERVED_ROOT_NAMES):
        return f"inside {parts[0]}, which the IDE manages"
    if any(_is_reserved(p, RESERVED_ANYWHERE) for p in parts):
        return "a nested .git"
    folded = tuple(fold(p) for p in parts)
    if any(folded[:n] in links for n in range(1, len(folded))):
        return "would be written through a symlink or submodule"
    if entry.mode == FileMode.LINK:
        if fold(parts[-1]) in NO_SYMLINK_NAMES:
            return "git's own settings file as a symlink"
        target = (entry.target or b"").decode("utf-8", "replace")
        if "\x00" in target or any(
            _is_reserved(p, RESERVED_ROOT_NAMES | RESERVED_ANYWHERE) for p in components(target)
        ):
            return f"a symlink into {target!r}"
    return None


def tree_entries(repo: pygit2.Repository, tree: pygit2.Tree, prefix: str = "") -> Iterator[Entry]:
    """Every entry of ``tree``, recursively, with symlink targets read from their blobs."""
    for item in tree:
        name = item.name or ""
        path = f"{prefix}{name}"
        if item.filemode == FileMode.TREE:  # an empty tree writes nothing: its files count
            subtree = repo[item.id]
            assert isinstance(subtree, pygit2.Tree)
            yield from tree_entries(repo, subtree, f"{path}/")
        elif item.filemode == FileMode.LINK:
            blob = repo[item.id]
            assert isinstance(blob, pygit2.Blob)
            yield Entry(path, item.filemode, blob.data)
        else:
            yield Entry(path, item.filemode)


def index_entries(repo: pygit2.Repository, index: pygit2.Index) -> Iterator[Entry]:
    """Every entry of ``index`` (a merge result), conflict sides included."""
    seen = [*index]
    for sides in index.conflicts or ():
        seen.extend(side for side in sides if side is not None)
    for item in seen:
        target = None
        if item.mode == FileMode.LINK:
            blob = repo[item.id]
            assert isinstance(blob, pygit2.Blob)
            target = blob.data
        yield Entry(item.path, item.mode, target)


def refuse_reserved_entries(
    repo: pygit2.Repository, source: pygit2.Tree | pygit2.Index, action: str
) -> None:
    """Raise :data:`RESERVED_PATHS` if writing ``source`` would touch a reserved directory."""
    entries = (
        tree_entries(repo, source)
        if isinstance(source, pygit2.Tree)
        else index_entries(repo, source)
    )
    found = problems(entries)
    if not found:
        return
    shown = "; ".join(found[:3]) + ("; ..." if len(found) > 3 else "")
    raise RpcError(
        RESERVED_PATHS,
        f"{action} refused: the commit tracks paths the IDE reserves for itself ({shown}). "
        "Nothing was changed. Remove these paths from the branch with another git client, "
        "or ask the branch's author to.",
        {"files": found[:MAX_LISTED], "count": len(found)},
    )
