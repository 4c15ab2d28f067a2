"""The warm worker's parsed project: the manifest, kept fresh, and compiling one node.

Runs inside the warm worker process only (dbt's flags and event logger are
process-global, so one dbt call at a time, from one thread). The manifest is reused for
every call (``dbtRunner(manifest=...)``); when a project file changed since the last
parse, dbt parses again, partially (its ``partial_parse.msgpack`` lives in the worker's
private target directory, never the project's).

A file that does not parse (half-typed Jinja, autosaved) must not take the whole project
down with it: the last manifest that parsed stays in use, and :attr:`Project.parse_error`
says why it is stale. Lineage and completion keep working on it; a node compiled from disk
meanwhile is compiled from the file's text as it is now, so its own error shows, not a
stale success.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SKIPPED_DIRS = frozenset({"target", "logs", ".git", ".ide", "node_modules"})
_LINE = re.compile(r"\n\s*line (\d+)\b")
# ref('name'), ref('package', 'name'), ref("name", v=2): the names dbt must know about.
_REF = re.compile(r"""\bref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"])?""")
_SOURCE = re.compile(r"""\bsource\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]""")
_REFABLE = ("model", "seed", "snapshot")


class CompileFailed(Exception):
    def __init__(self, message: str, path: str | None, line: int | None) -> None:
        super().__init__(message)
        self.message, self.path, self.line = message, path, line


@dataclass(frozen=True)
class Compiled:
    sql: str
    unique_id: str | None  # None for SQL compiled outside any node


class Project:
    """The project at ``project_dir`` as the warm worker sees it."""

    def __init__(self, project_dir: Path, common_args: list[str]) -> None:
        self.project_dir = project_dir
        self._common = common_args
        self._manifest: Any = None
        self._fingerprint: tuple[Any, ...] | None = None  # of the files it was parsed from
        self.parse_error: CompileFailed | None = None  # why the manifest is the last good one
        self._failed_fingerprint: tuple[Any, ...] | None = None

    def manifest(self) -> Any:
        """The parsed manifest, parsed again first if any project file changed.

        If the files no longer parse, the last manifest that did (see the module's doc);
        with no such manifest, the parse error.
        """
        fingerprint = self._files_fingerprint()
        if fingerprint == self._fingerprint and self._manifest is not None:
            return self._manifest
        if self.parse_error is not None and fingerprint == self._failed_fingerprint:
            return self._manifest  # these files failed already: no second parse
        from dbt.cli.main import dbtRunner

        result: Any = dbtRunner().invoke(["parse", *self._common])
        if not result.success or result.result is None:
            message = _message_of(result)
            error = CompileFailed(message, self._path_in(message, fingerprint), _line_of(message))
            if self._manifest is None:
                raise error
            self.parse_error, self._failed_fingerprint = error, fingerprint
            return self._manifest
        self._manifest, self._fingerprint = result.result, fingerprint
        self.parse_error = None
        return self._manifest

    def node_at(self, path: str) -> Any:
        manifest = self.manifest()
        for node in manifest.nodes.values():
            # A schema.yml's generic tests share its path; they are not what the file is.
            if node.original_file_path == path and not _is_generic_test(node):
                return node
        return None

    def path_of(self, name: str) -> str:
        """The file of the model, snapshot, analysis or seed called ``name``."""
        for node in self.manifest().nodes.values():
            if node.name == name and node.resource_type in (*_REFABLE, "analysis"):
                return str(node.original_file_path)
        raise CompileFailed(f"there is no model, seed or snapshot named {name!r}", None, None)

    def seed_relation(self, name: str) -> tuple[str, str] | None:
        """A seed's (unique_id, relation name), or None if ``name`` is not a seed."""
        for node in self.manifest().nodes.values():
            if node.name == name and node.resource_type == "seed":
                return str(node.unique_id), str(node.relation_name)
        return None

    def compile(self, path: str | None, text: str | None) -> Compiled:
        """Compile the node at ``path`` (with ``text`` as its code, if given), or ``text``."""
        from dbt.cli.main import dbtRunner

        manifest = self.manifest()
        node = self.node_at(path) if path else None
        if node is not None and text is None and self.parse_error is not None:
            text = self._text_on_disk(path)  # the stale manifest holds older code
        if node is None:
            if text is None:
                raise CompileFailed(
                    f"{path} is not a model, analysis or test of this project", path, None
                )
            argv = ["compile", "--inline", text]
        else:
            argv = ["compile", "--select", f"path:{node.original_file_path}"]
        with _code_of(node, text, manifest):
            result: Any = dbtRunner(manifest=manifest).invoke(
                [*argv, "--no-populate-cache", *self._common]
            )
        if not result.success or not result.result or not result.result.results:
            message = _message_of(result)
            raise CompileFailed(message, path, _line_of(message))
        compiled = result.result.results[0].node
        return Compiled(str(compiled.compiled_code or ""), node.unique_id if node else None)

    def _path_in(self, message: str, fingerprint: tuple[Any, ...]) -> str | None:
        """The project file a parse error names, if it names one (dbt says "in model x
        (models/x.sql)")."""
        for full, _mtime, _size in fingerprint:
            relative = os.path.relpath(full, self.project_dir)
            if relative in message:
                return relative
        return None

    def _text_on_disk(self, path: str | None) -> str | None:
        try:
            return (self.project_dir / str(path)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _files_fingerprint(self) -> tuple[Any, ...]:
        entries: list[tuple[str, int, int]] = []
        for directory, dirs, files in os.walk(self.project_dir):
            dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
            for name in files:
                full = os.path.join(directory, name)
                try:
                    stat = os.stat(full)
                except OSError:
                    continue
                entries.append((full, stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(entries))


def _is_generic_test(node: Any) -> bool:
    return node.resource_type == "test" and getattr(node, "test_metadata", None) is not None


@contextmanager
def _code_of(node: Any, text: str | None, manifest: Any) -> Iterator[None]:
    """Give ``node`` the editor's ``text`` for one compile, with the refs it makes.

    dbt records a node's refs when it parses the file and refuses, at compile time, a ref
    it did not record; an unsaved buffer may have new ones, so they are added for the
    duration of the compile and everything is put back afterwards.
    """
    if node is None or text is None:
        yield
        return
    saved_code, saved_nodes = node.raw_code, list(node.depends_on.nodes)
    node.raw_code = text
    node.depends_on.nodes = list(dict.fromkeys([*saved_nodes, *_referenced(text, manifest)]))
    try:
        yield
    finally:
        node.raw_code, node.depends_on.nodes = saved_code, saved_nodes


def _referenced(text: str, manifest: Any) -> list[str]:
    wanted_refs = {(b or a) for a, b in _REF.findall(text)}
    wanted_sources = set(_SOURCE.findall(text))
    found = [
        n.unique_id
        for n in manifest.nodes.values()
        if n.resource_type in _REFABLE and n.name in wanted_refs
    ]
    found += [
        s.unique_id for s in manifest.sources.values() if (s.source_name, s.name) in wanted_sources
    ]
    return found


def _message_of(result: Any) -> str:
    if result.exception is not None:
        return str(result.exception).strip()
    for item in getattr(result.result, "results", None) or []:
        if getattr(item, "message", None):
            return str(item.message).strip()
    return "dbt could not compile this"


def _line_of(message: str) -> int | None:
    match = _LINE.search(message)
    return int(match.group(1)) if match else None
