"""The pod's own entries in a checkout's ``.git/info/exclude`` (never in .gitignore).

Plain file work, without pygit2, so that a later start of the pod can check them before
it loads git at all (see :mod:`..checkout`).
"""

from __future__ import annotations

from pathlib import Path

# Entries every checkout ignores locally: the pod's own state on the volume, and the
# temporary files of a save in progress (see ide_server.durable).
LOCAL_EXCLUDES = (".ide/", ".*.ide-tmp", ".~*")


def ensure_local_excludes(git_dir: Path) -> None:
    """Add the missing :data:`LOCAL_EXCLUDES` to ``git_dir/info/exclude``."""
    exclude = git_dir / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    lines = existing.splitlines()
    missing = [entry for entry in LOCAL_EXCLUDES if entry not in lines]
    if not missing:
        return
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write(prefix + "".join(f"{entry}\n" for entry in missing))
