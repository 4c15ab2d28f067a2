"""``git/diff``: unified text plus hunks with line numbers for a side-by-side view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, DiffOption

# Past this size a file's diff is summarised, not sent: the browser could not show it.
MAX_PATCH_BYTES = 1024 * 1024
WORKDIR_FLAGS = (
    DiffOption.INCLUDE_UNTRACKED
    | DiffOption.RECURSE_UNTRACKED_DIRS
    | DiffOption.SHOW_UNTRACKED_CONTENT
)


def base_tree(repo: pygit2.Repository) -> pygit2.Tree:
    """HEAD's tree, or the empty tree before the first commit."""
    if repo.head_is_unborn:
        tree = repo[repo.TreeBuilder().write()]
        assert isinstance(tree, pygit2.Tree)
        return tree
    return repo.head.peel(pygit2.Commit).tree


def diff_files(
    repo: pygit2.Repository, root: Path, path: str | None, *, staged: bool
) -> dict[str, Any]:
    """The working tree (or the index, with ``staged``) against HEAD, for ``path`` or all."""
    tree = base_tree(repo)
    if staged:
        diff = repo.index.diff_to_tree(tree)
    else:
        diff = tree.diff_to_workdir(flags=WORKDIR_FLAGS)
    diff.find_similar(flags=DiffFind.FIND_RENAMES | DiffFind.FIND_FOR_UNTRACKED)
    files = []
    for position, delta in enumerate(diff.deltas):
        if path is not None and path not in (delta.new_file.path, delta.old_file.path):
            continue
        patch = diff[position]
        if patch is None:
            continue
        entry = describe_patch(patch)
        if path is not None and not entry["binary"] and not entry["too_large"]:
            entry["old_text"], entry["new_text"] = _full_texts(repo, root, delta, staged=staged)
        files.append(entry)
    return {"staged": staged, "path": path, "files": files}


def describe_patch(patch: pygit2.Patch) -> dict[str, Any]:
    delta = patch.delta
    _, additions, deletions = patch.line_stats
    status = DeltaStatus(delta.status).name.lower()
    entry: dict[str, Any] = {
        "path": delta.new_file.path,
        "old_path": delta.old_file.path,
        "status": status,
        "binary": bool(delta.is_binary),
        "additions": additions,
        "deletions": deletions,
        "too_large": False,
        "patch": "",
        "hunks": [],
    }
    if delta.is_binary:
        return entry
    data = patch.data
    if len(data) > MAX_PATCH_BYTES:
        entry["too_large"] = True
        return entry
    entry["patch"] = data.decode("utf-8", errors="replace")
    entry["hunks"] = [_hunk(h) for h in patch.hunks]
    return entry


def _hunk(hunk: pygit2.DiffHunk) -> dict[str, Any]:
    return {
        "header": hunk.header.rstrip("\n"),
        "old_start": hunk.old_start,
        "old_lines": hunk.old_lines,
        "new_start": hunk.new_start,
        "new_lines": hunk.new_lines,
        "lines": [
            {
                "origin": line.origin,
                "content": line.content,
                # -1 from libgit2 means "no such side"; JSON clients prefer null.
                "old_lineno": line.old_lineno if line.old_lineno >= 0 else None,
                "new_lineno": line.new_lineno if line.new_lineno >= 0 else None,
            }
            for line in hunk.lines
            if line.origin in " +-"
        ],
    }


def _full_texts(
    repo: pygit2.Repository, root: Path, delta: pygit2.DiffDelta, *, staged: bool
) -> tuple[str | None, str | None]:
    """Both sides in full, for an editor-style side-by-side view of one file."""
    old = _blob_text(repo, delta.old_file.id) if delta.status != DeltaStatus.ADDED else None
    if delta.status == DeltaStatus.DELETED:
        return old, None
    if staged:
        return old, _blob_text(repo, delta.new_file.id)
    target = root / delta.new_file.path
    try:
        return old, target.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return old, None


def _blob_text(repo: pygit2.Repository, oid: pygit2.Oid) -> str | None:
    if oid.raw == b"\x00" * len(oid.raw):
        return None
    blob = repo.get(oid)
    if not isinstance(blob, pygit2.Blob) or blob.is_binary:
        return None
    try:
        return blob.data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def commit_files(repo: pygit2.Repository, commit: pygit2.Commit) -> list[dict[str, Any]]:
    """What ``commit`` changed against its first parent (the empty tree for a root commit)."""
    if commit.parents:
        diff = commit.parents[0].tree.diff_to_tree(commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    diff.find_similar(flags=DiffFind.FIND_RENAMES)
    return [describe_patch(patch) for patch in diff if patch is not None]
