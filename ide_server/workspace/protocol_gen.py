"""Write the files generated from the pod's method registry (docs/protocol.md, "Adding a method").

    uv run --frozen python -m ide_server.workspace.protocol_gen          # write them
    uv run --frozen python -m ide_server.workspace.protocol_gen --check  # exit 1 if stale

* ``frontend/src/ide/generated/protocol.ts``: the frontend's typed method map, notification
  map, params and result types, and error codes (:mod:`.protocol_ts`);
* ``ide_server/protocol.py``: the same facts as plain Python data with no imports, for the
  gateway, which must not load the pod to learn which methods write.

Both are committed; ``tests/test_protocol_generated.py`` fails when either is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import COMMON_ERRORS, ERROR_CODES
from .methods import build_registry
from .protocol_ts import render_typescript
from .registry import MethodRegistry

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT = Path("frontend/src/ide/generated/protocol.ts")
PYTHON_TABLE = Path("ide_server/protocol.py")
_LINE_LENGTH = 100  # pyproject's ruff line-length

_PYTHON_HEADER = '''\
"""The IDE protocol as plain data, generated from the pod's method registry.

Do not edit: declare methods in ide_server/workspace (docs/protocol.md) and run
``uv run --frozen python -m ide_server.workspace.protocol_gen``. This module imports
nothing, so the gateway can read it without loading the pod.
"""
'''


def render_python_table(registry: MethodRegistry) -> str:
    methods = registry.methods()
    lines = [_PYTHON_HEADER]
    lines.append("# Methods a read-only member may not call.")
    lines.append("WRITE_METHODS: frozenset[str] = frozenset(\n    {")
    lines += [f"        {json.dumps(m.name)}," for m in methods if m.writes]
    lines.append("    }\n)\n")
    lines.append("# method: (writes, the error codes it answers besides COMMON_ERRORS)")
    lines.append("METHODS: dict[str, tuple[bool, tuple[int, ...]]] = {")
    for m in methods:
        row = f"    {json.dumps(m.name)}: ({m.writes}, {m.errors!r}),"
        if len(row) > _LINE_LENGTH:  # laid out as ruff format would, so ruff leaves it
            row = f"    {json.dumps(m.name)}: (\n        {m.writes},\n        {m.errors!r},\n    ),"
        lines.append(row)
    lines.append("}\n")
    lines.append("# method: the lowest share mode (view < edit < full) a guest needs to call it.")
    lines.append("GUEST_MODES: dict[str, str] = {")
    lines += [f"    {json.dumps(m.name)}: {json.dumps(m.guest_mode)}," for m in methods]
    lines.append("}\n")
    lines.append("NOTIFICATIONS: frozenset[str] = frozenset(\n    {")
    lines += [f"        {json.dumps(n.name)}," for n in registry.notifications()]
    lines.append("    }\n)\n")
    lines.append("# code: (name, meaning)")
    lines.append("ERRORS: dict[int, tuple[str, str]] = {")
    lines += [
        f"    {e.code}: ({json.dumps(e.name)}, {json.dumps(e.meaning)}),"
        for e in ERROR_CODES.values()
    ]
    lines.append("}\n")
    lines.append("# Codes any method may answer.")
    common = ", ".join(str(code) for code in COMMON_ERRORS)
    lines.append(f"COMMON_ERRORS: tuple[int, ...] = ({common})")
    return "\n".join(lines) + "\n"


def generated_files(registry: MethodRegistry | None = None) -> dict[Path, str]:
    """Each generated file's path (relative to the repository) and its content."""
    registry = registry or build_registry()
    return {
        TYPESCRIPT: render_typescript(registry),
        PYTHON_TABLE: render_python_table(registry),
    }


def stale_files(root: Path = ROOT) -> list[Path]:
    """The generated files whose committed content differs from the registry's."""
    stale = []
    for path, content in generated_files().items():
        target = root / path
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            stale.append(path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            print(f"{path} is stale: run python -m ide_server.workspace.protocol_gen")
        return 1 if stale else 0
    for path, content in generated_files().items():
        target = ROOT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
