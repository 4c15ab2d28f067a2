"""Making writes survive a crash: the one durable write path every writer of the project uses.

A file is replaced, never rewritten in place: the new content goes to a temporary file in
the same directory (same file system, so the rename is atomic), is flushed to disk, renamed
over the target, and the directory entry is flushed too. A crash at any moment leaves the
old content or the new one, plus at most a temporary file that :func:`recover_interrupted_writes`
removes on the next start.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# Our temporary files: ``.<name>.<random>.ide-tmp``, beside their target.
TEMP_SUFFIX = ".ide-tmp"
# Left behind by earlier writers: our old ``tempfile.mkstemp`` names, and the backups
# Jupyter's ``atomic_writing`` takes before writing a file in place.
_OLD_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
JUPYTER_BACKUP_PREFIX = ".~"
# Never walked when cleaning up: git's and the pod's own state.
_SKIPPED_DIRS = frozenset({".git", ".ide"})


def fsync_path(path: Path | str) -> None:
    """Flush a file's data, or a directory's entries (after a rename into it), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_write_leftover(name: str) -> bool:
    """Whether a file name is a temporary file or backup of a write (ours or Jupyter's)."""
    if name.startswith(JUPYTER_BACKUP_PREFIX):
        return True
    if name.startswith(".") and name.endswith(TEMP_SUFFIX):
        return True
    return bool(_OLD_TEMP.match(name))


def _temporary_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


@contextlib.contextmanager
def replacing(path: Path, *, text: bool = False, encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """A file object whose content replaces ``path`` when the block ends without error.

    The target keeps its permission bits. On an error the temporary file is removed and
    ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    tmp = _temporary_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w" if text else "wb", encoding=encoding if text else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: after a crash it holds the old bytes or these."""
    with replacing(path) as f:
        f.write(data)


def _recover_jupyter_backup(backup: Path) -> None:
    """Put back the copy Jupyter took before writing a file in place, if the write tore it.

    Jupyter copies the file (content, then its times) to ``.~name`` and then rewrites
    ``name`` in place. A backup older than the file means the rewrite had begun: the file
    may be torn and the backup is the intact old content. A backup as new as the file (or
    newer: the copy was cut short) means the file itself was never touched.
    """
    target = backup.with_name(backup.name.removeprefix(JUPYTER_BACKUP_PREFIX))
    try:
        target_mtime = target.stat().st_mtime_ns
    except FileNotFoundError:
        target_mtime = None
    if target_mtime is None or backup.stat().st_mtime_ns < target_mtime:
        os.replace(backup, target)
    else:
        backup.unlink()


def recover_interrupted_writes(root: Path) -> list[Path]:
    """Remove (or restore) what writes cut short by a crash left in ``root``; the paths."""
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root):
        if Path(directory) == root:
            dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS]
        touched = False
        for name in filenames:
            if not is_write_leftover(name):
                continue
            leftover = Path(directory, name)
            if leftover.is_symlink():
                continue
            if name.startswith(JUPYTER_BACKUP_PREFIX):
                _recover_jupyter_backup(leftover)
            else:
                leftover.unlink()
            found.append(leftover)
            touched = True
        if touched:
            fsync_path(directory)
    return found
