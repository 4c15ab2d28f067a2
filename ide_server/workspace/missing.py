"""Files that vanished under an open document: noticed at once, and said why.

jupyter-server-ydoc's file loader raises when its file is gone (a branch switch, a
delete by a pair partner, ``git reset``), its watcher logs the 404 and its rooms never
hear of it: the document stays editable and every save fails in the log only. The
loader here tells its rooms instead (they reload, find the file missing and say so in
the document's state), and :func:`describe_missing` names the likely cause.
"""

from __future__ import annotations

import os
from http import HTTPStatus
from pathlib import Path
from typing import Any

from jupyter_server_ydoc.loaders import FileLoader, FileLoaderMapping
from tornado.web import HTTPError


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, HTTPError) and error.status_code == HTTPStatus.NOT_FOUND


class WatchfulFileLoader(FileLoader):
    """A file loader whose rooms hear when the file disappears, and when it comes back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing = False

    async def maybe_notify(self) -> None:
        try:
            await super().maybe_notify()
        except Exception as error:
            if not is_not_found(error):
                raise
            if not self.missing:
                self.missing = True
                # The rooms' out-of-band callbacks load the file, fail, and mark it missing.
                for callback in list(self._subscriptions.values()):
                    await callback()
            return
        if self.missing:
            self.missing = False
            for callback in list(self._subscriptions.values()):
                await callback()


class WatchfulFileLoaderMapping(FileLoaderMapping):
    def __getitem__(self, file_id: str) -> FileLoader:
        loaders: dict[str, FileLoader] = self._FileLoaderMapping__dict  # type: ignore[attr-defined]
        loader = loaders.get(file_id)
        if loader is None:
            loader = WatchfulFileLoader(
                file_id,
                self.file_id_manager,
                self.contents_manager,
                self.log,
                self.file_poll_interval,
                stop_poll_on_errors_after=None,  # a file may come back (a branch switch)
            )
            loaders[file_id] = loader
        return loader


def describe_missing(root: Path, path: str) -> dict[str, str]:
    """``{"reason": "branch" | "deleted", "message"}`` for a file gone from the volume."""
    branches = _branches_holding(root, path)
    if branches:
        where = ", ".join(branches[:3])
        return {
            "reason": "branch",
            "message": f"{path} is not on this branch (it is on {where}).",
        }
    return {"reason": "deleted", "message": f"{path} was deleted."}


def _branches_holding(root: Path, path: str) -> list[str]:
    """Local branches other than the current one whose tree has ``path``."""
    if not (root / ".git").is_dir():
        return []
    # Here, not at the top: the collaboration extension imports this module at start.
    import pygit2
    from pygit2.enums import RepositoryOpenFlag

    try:
        repo = pygit2.Repository(str(root), RepositoryOpenFlag.NO_SEARCH)
        if Path(os.path.realpath(repo.path)) != Path(os.path.realpath(root / ".git")):
            return []
        current = None if repo.head_is_unborn or repo.head_is_detached else repo.head.shorthand
        found = []
        for name in sorted(repo.branches.local):
            if name == current:
                continue
            commit = repo.branches.local[name].peel(pygit2.Commit)
            try:
                commit.tree[path]
            except KeyError:
                continue
            found.append(name)
        return found
    except (pygit2.GitError, ValueError, KeyError):
        return []
