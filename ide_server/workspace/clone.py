"""First start of a pod: clone the project into the empty volume; later starts reuse it."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import pygit2

from .config import PodConfig

log = logging.getLogger(__name__)


def ensure_checkout(config: PodConfig) -> None:
    """Clone ``config.git_url`` into ``config.root`` unless the volume already holds a checkout.

    The clone is made in a temporary directory beside the volume and moved into place, so a
    crash mid-clone leaves no half-made checkout behind.
    """
    root = config.root
    if (root / ".git").exists():
        _exclude_runtime_dir(root)
        return
    root.mkdir(parents=True, exist_ok=True)
    if not config.git_url:
        pygit2.init_repository(str(root), initial_head=config.default_branch)
        _exclude_runtime_dir(root)
        return
    staging = Path(tempfile.mkdtemp(prefix=".clone-", dir=root.parent))
    try:
        log.info("cloning %s into %s", config.git_url, root)
        pygit2.clone_repository(
            config.git_url, str(staging / "checkout"), checkout_branch=config.default_branch
        )
        for entry in (staging / "checkout").iterdir():
            entry.rename(root / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _exclude_runtime_dir(root)


def _exclude_runtime_dir(root: Path) -> None:
    exclude = root / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    lines = exclude.read_text().splitlines() if exclude.exists() else []
    if ".ide/" not in lines:
        exclude.write_text("\n".join([*lines, ".ide/"]) + "\n")
