"""Finished dbt invocations waiting on the volume for the gateway to collect them.

``<volume>/.ide/dbt/spool/<invocation_id>/`` holds ``invocation.json`` (the record the
history shows) and the invocation's files: ``dbt.log`` (its debug log, written by the
command's process as dbt's events arrive), and, copied from dbt's target directory when it
ends, ``run_results.json``, ``manifest.json`` and ``catalog.json`` (after docs generate).

The spool is under the reserved ``.ide/`` directory (git never tracks it, ``fs/*`` never
serves it) and survives a pod restart with the volume. The gateway lists it over the pod's
authenticated ``ide/invocations`` endpoints, uploads what it finds to the object store and
then deletes the entry (docs/dbt.md). The pod itself holds no storage credential.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ide_server.durable import write_atomically

log = logging.getLogger(__name__)

RECORD = "invocation.json"
DEBUG_LOG = "dbt.log"
ARTIFACTS = ("run_results.json", "manifest.json", "catalog.json")
FILES = (DEBUG_LOG, *ARTIFACTS)
_CONTENT_TYPES = {DEBUG_LOG: "text/plain; charset=utf-8"}
POD_STOPPED = "the session stopped while this invocation ran; it was cancelled"


def content_type(name: str) -> str:
    return _CONTENT_TYPES.get(name, "application/json")


class Spool:
    """One directory per invocation; every method is blocking and cheap."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, invocation_id: str) -> Path:
        if "/" in invocation_id or invocation_id in ("", ".", ".."):
            raise ValueError(f"not an invocation id: {invocation_id!r}")
        return self.root / invocation_id

    def begin(self, record: dict[str, Any]) -> Path:
        """The entry of a starting invocation; its record says ``running``."""
        directory = self.path(record["invocation_id"])
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._write_record(directory, record)
        return directory

    def finish(self, record: dict[str, Any], target_dir: Path | None, since: float) -> None:
        """Copy dbt's artifacts written since ``since``, then the final record."""
        directory = self.path(record["invocation_id"])
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in ARTIFACTS if target_dir is not None else ():
            source = target_dir / name  # type: ignore[operator]
            try:
                if source.is_file() and source.stat().st_mtime >= since - 1:
                    shutil.copyfile(source, directory / name)
            except OSError:
                log.warning("could not keep %s of invocation %s", name, directory.name)
        self._write_record(directory, record)

    def _write_record(self, directory: Path, record: dict[str, Any]) -> None:
        write_atomically(directory / RECORD, json.dumps(record).encode())

    def entries(self) -> list[dict[str, Any]]:
        """Every spooled invocation, oldest first: its record and its files' sizes."""
        found: list[dict[str, Any]] = []
        try:
            directories = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        for entry in directories:
            if not entry.is_dir(follow_symlinks=False):
                continue
            try:
                record = json.loads((Path(entry.path) / RECORD).read_bytes())
            except (OSError, ValueError):
                continue  # being created, or torn: a later pass sees it
            files = {}
            for name in FILES:
                try:
                    info = os.lstat(Path(entry.path) / name)
                except FileNotFoundError:
                    continue
                files[name] = info.st_size
            found.append({**record, "files": files})
        found.sort(key=lambda r: float(r.get("started_at") or 0))
        return found

    def read(self, invocation_id: str, name: str, offset: int = 0) -> bytes | None:
        if name not in FILES:
            return None
        try:
            with open(self.path(invocation_id) / name, "rb") as f:
                f.seek(offset)
                return f.read()
        except (FileNotFoundError, ValueError):
            return None

    def remove(self, invocation_id: str) -> str:
        """``removed``, ``running`` (refused) or ``unknown``."""
        directory = self.path(invocation_id)
        try:
            record = json.loads((directory / RECORD).read_bytes())
        except (OSError, ValueError):
            return "unknown"
        if record.get("status") == "running":
            return "running"
        shutil.rmtree(directory, ignore_errors=True)
        return "removed"

    def recover(self, before: float) -> list[str]:
        """Records still ``running`` that began before this pod did: the previous pod
        stopped (or died) while they ran. They become ``cancelled``, their log kept and told
        why. (This pod's own are never touched: it always writes their final record.)"""
        recovered = []
        for record in self.entries():
            invocation_id = str(record["invocation_id"])
            if record.get("status") != "running" or float(record.get("started_at") or 0) >= before:
                continue
            record.pop("files", None)
            record["status"] = "cancelled"
            directory = self.path(invocation_id)
            with open(directory / DEBUG_LOG, "a", encoding="utf-8") as f:
                f.write(f"{_now()} [error] {POD_STOPPED}\n")
            self._write_record(directory, record)
            recovered.append(invocation_id)
        return recovered


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
