"""Where the logs and artifacts of dbt invocations are kept: a small interface, two stores.

- :class:`DirectoryStore` (the default): files under a directory of the data dir.
- :class:`~.objectstore_s3.S3Store`: any S3-compatible bucket through boto3, every object
  written server-side encrypted.

Only the gateway holds a store (and its credentials); pods never do (docs/dbt.md).
Keys are ``<prefix>/<project>/<user>/<invocation_id>/<name>``, built by :func:`object_key`.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Protocol

from ..config import Config
from ..durable import write_atomically

# Project, user and invocation ids are checked where they are made; a key part is refused
# here too, so no name can climb out of its prefix.
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")


class StoreUnavailable(Exception):
    """The store did not take or give an object now; the caller retries later."""


class ObjectMissing(Exception):
    """No object under that key."""


class ObjectStore(Protocol):
    """Blocking calls: the gateway runs them in a worker thread."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing it); raise StoreUnavailable."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raise ObjectMissing or StoreUnavailable."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; one that is not there is not an error. Raise StoreUnavailable."""
        ...

    def close(self) -> None:
        """Release connections; safe to call twice."""
        ...


def object_key(prefix: str, project: str, user: str, invocation_id: str, name: str) -> str:
    for part in (project, user, invocation_id, name):
        if not _PART.fullmatch(part) or ".." in part:
            raise ValueError(f"not a safe object key part: {part!r}")
    parts = [p for p in prefix.strip("/").split("/") if p]
    return "/".join([*parts, project, user, invocation_id, name])


class DirectoryStore:
    """Objects as files under ``root`` (created with mode 0700), written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not an object key: {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomically(path, data)
        except OSError as exc:
            raise StoreUnavailable(f"could not write {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except OSError as exc:
            raise StoreUnavailable(f"could not read {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"could not delete {key}: {exc}") from exc
        # The invocation's directory goes with its last file (never above the root).
        with contextlib.suppress(OSError):
            parent = path.parent
            while parent != self.root and parent.is_relative_to(self.root):
                parent.rmdir()  # only if empty
                parent = parent.parent

    def close(self) -> None:
        pass


def create_store(config: Config) -> ObjectStore:
    """The store the settings name; no I/O (a bucket is first reached by an upload)."""
    kind = config.object_store
    if kind == "directory":
        root = Path(config.object_store_dir) if config.object_store_dir else None
        root = root or config.data_path / "objects"
        os.makedirs(root, mode=0o700, exist_ok=True)
        return DirectoryStore(root.resolve())
    if kind == "s3":
        from .objectstore_s3 import S3Settings, S3Store

        return S3Store(S3Settings.from_config(config))
    raise SystemExit(f"IDE_OBJECT_STORE: unknown store {kind!r} (choose directory or s3)")
