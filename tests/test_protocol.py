"""The protocol is written once, in the pod's registry; everything else must agree with it.

The generated files (the frontend's ``protocol.ts`` and the gateway's ``ide_server/protocol.py``)
are regenerated in memory and compared with the committed ones, and docs/protocol.md must
name every method, notification and error code.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import re
import tokenize
from pathlib import Path
from typing import TypedDict

import pytest

import ide_server.protocol as table
from ide_server.workspace import errors, protocol_gen
from ide_server.workspace.methods import build_registry
from ide_server.workspace.protocol_ts import render_typescript
from ide_server.workspace.registry import MethodRegistry, NoParams

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
REGENERATE = "uv run --frozen python -m ide_server.workspace.protocol_gen"


@pytest.mark.parametrize("path", list(protocol_gen.generated_files()))
def test_the_committed_generated_file_is_current(path: Path) -> None:
    committed = (ROOT / path).read_text(encoding="utf-8")
    assert committed == protocol_gen.generated_files()[path], f"{path} is stale: {REGENERATE}"


class Pinged(TypedDict):
    pong: bool


def test_a_new_method_makes_the_generated_files_stale() -> None:
    """The staleness check can fail: one more method changes both files."""
    registry = build_registry()
    extra = MethodRegistry()

    @extra.method("session/ping", NoParams, result=Pinged, writes=True)
    async def ping(ctx: object, params: NoParams) -> Pinged:
        return {"pong": True}

    registry.include(extra)
    changed = protocol_gen.generated_files(registry)
    for path, content in protocol_gen.generated_files().items():
        assert changed[path] != content
    assert (
        '"session/ping": {\n    params: NoParams;\n    result: Pinged;'
        in changed[protocol_gen.TYPESCRIPT]
    )
    assert '"session/ping",' in changed[protocol_gen.PYTHON_TABLE]


def test_the_gateway_table_agrees_with_the_registry() -> None:
    registry = build_registry()
    assert table.WRITE_METHODS == registry.write_methods()
    assert table.METHODS == {m.name: (m.writes, m.errors) for m in registry.methods()}
    assert table.NOTIFICATIONS == {n.name for n in registry.notifications()}
    assert table.ERRORS == {e.code: (e.name, e.meaning) for e in errors.ERROR_CODES.values()}
    assert table.COMMON_ERRORS == errors.COMMON_ERRORS


def test_the_gateway_table_imports_nothing() -> None:
    tree = ast.parse((ROOT / "ide_server" / "protocol.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imports == []


def test_every_method_declares_types_the_frontend_can_name() -> None:
    registry = build_registry()
    assert registry.names(), "no methods registered"
    for method in registry.methods():
        assert dataclasses.is_dataclass(method.params), method.name
        assert set(method.errors) <= set(errors.ERROR_CODES), method.name
    render_typescript(registry)  # raises on a type it cannot express or a name used twice


@dataclasses.dataclass(frozen=True)
class FsEntry:  # the name of fs/list's entry type, for another shape
    other: int


class Clash(TypedDict):
    entry: FsEntry


def test_two_types_of_one_name_are_refused() -> None:
    registry = build_registry()
    extra = MethodRegistry()

    @extra.method("session/clash", NoParams, result=Clash)
    async def clash(ctx: object, params: NoParams) -> Clash:
        raise NotImplementedError

    registry.include(extra)
    with pytest.raises(TypeError, match="two protocol types are named FsEntry"):
        render_typescript(registry)


def test_error_codes_are_declared_only_in_errors_py() -> None:
    """A code written as a number in code elsewhere would bypass the generated tables.

    Only code counts (number tokens): docstrings and comments may name codes.
    """
    offenders = []
    for path in sorted((ROOT / "ide_server" / "workspace").rglob("*.py")):
        if path == ROOT / "ide_server" / "workspace" / "errors.py":
            continue
        with path.open("rb") as source:
            tokens = list(tokenize.tokenize(source.readline))
        for minus, number in itertools.pairwise(tokens):
            if minus.string == "-" and number.type == tokenize.NUMBER:
                if re.fullmatch(r"32[0-9]{3}", number.string):
                    offenders.append(f"{path.relative_to(ROOT)}:{number.start[0]}")
    assert offenders == []


def _documented_names() -> set[str]:
    return set(re.findall(r"`([a-z_]+/[a-z_]+)`", DOCS))


@pytest.mark.parametrize("name", build_registry().names())
def test_every_method_is_documented(name: str) -> None:
    assert name in _documented_names(), f"docs/protocol.md has no row for `{name}`"


@pytest.mark.parametrize("name", [n.name for n in build_registry().notifications()])
def test_every_notification_is_documented(name: str) -> None:
    assert name in _documented_names(), f"docs/protocol.md does not describe `{name}`"


@pytest.mark.parametrize("code", list(errors.ERROR_CODES))
def test_every_error_code_is_documented(code: int) -> None:
    assert re.search(rf"^\| {code} \|", DOCS, re.MULTILINE), f"no table row for {code}"


def test_the_docs_name_no_method_the_pod_does_not_have() -> None:
    registry = build_registry()
    known = set(registry.names()) | {n.name for n in registry.notifications()}
    documented = {n for n in _documented_names() if n.split("/")[0] in _families(known)}
    assert documented - known == set()


def _families(names: set[str]) -> set[str]:
    return {name.split("/")[0] for name in names}
