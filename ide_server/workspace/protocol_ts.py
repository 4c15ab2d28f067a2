"""The TypeScript rendering of the pod's registry: ``frontend/src/ide/generated/protocol.ts``.

Python annotations map to TypeScript as JSON carries them: ``str`` → ``string``, ``int``
and ``float`` → ``number``, ``None`` → ``null``, ``Literal`` → literal unions, ``list`` →
arrays, TypedDicts and dataclasses → interfaces named after the class (``NotRequired``
keys and fields with a default are optional). A name used by two different classes is an
error: the frontend has one namespace.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from .errors import ERROR_CODES
from .registry import MethodRegistry

HEADER = """\
// Generated from the pod's method registry (ide_server/workspace/methods.py) by
//   uv run --frozen python -m ide_server.workspace.protocol_gen
// Do not edit: declare the change in the registry and run the generator (docs/protocol.md).
"""

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
    Any: "unknown",
    object: "unknown",
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    annotation: Any
    optional: bool


class TypeScriptWriter:
    """Collects the interfaces the method map needs, in the order they are first used."""

    def __init__(self) -> None:
        self._named: dict[str, Any] = {}
        self._bodies: list[str] = []

    def type_of(self, annotation: Any) -> str:
        if annotation in _SCALARS:
            return _SCALARS[annotation]
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin in (typing.Union, types.UnionType):
            return " | ".join(self.type_of(arg) for arg in args)
        if origin is typing.Literal:
            return " | ".join(json.dumps(arg) for arg in args)
        if origin in (list, tuple, frozenset, set):
            item = self.type_of(args[0]) if args else "unknown"
            return f"({item})[]" if " | " in item else f"{item}[]"
        if origin is dict or annotation is dict:
            value = self.type_of(args[1]) if len(args) == 2 else "unknown"
            return f"Record<string, {value}>"
        if typing.is_typeddict(annotation) or dataclasses.is_dataclass(annotation):
            return self.interface(annotation)
        raise TypeError(f"no TypeScript type for {annotation!r}")

    def interface(self, cls: Any) -> str:
        """The name of ``cls``'s interface, written once."""
        name = cls.__name__
        known = self._named.get(name)
        if known is cls:
            return name
        if known is not None:
            raise TypeError(f"two protocol types are named {name}: rename one")
        self._named[name] = cls
        fields = _fields(cls)
        if not fields:
            self._bodies.append(f"export type {name} = Record<string, never>;\n")
            return name
        lines = [f"export interface {name} {{"]
        for field in fields:
            mark = "?" if field.optional else ""
            key = field.name if field.name.isidentifier() else json.dumps(field.name)
            lines.append(f"  {key}{mark}: {self.type_of(field.annotation)};")
        lines.append("}\n")
        self._bodies.append("\n".join(lines))
        return name

    def bodies(self) -> str:
        return "\n".join(self._bodies)


def _fields(cls: Any) -> list[_Field]:
    hints = typing.get_type_hints(cls, include_extras=True)
    if typing.is_typeddict(cls):
        result = []
        for name, hint in hints.items():
            optional = typing.get_origin(hint) is typing.NotRequired
            if typing.get_origin(hint) in (typing.NotRequired, typing.Required):
                (hint,) = typing.get_args(hint)
            result.append(_Field(name, hint, optional))
        return result
    return [
        _Field(
            f.name,
            hints[f.name],
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    ]


def render_typescript(registry: MethodRegistry) -> str:
    writer = TypeScriptWriter()
    entries = []
    for method in registry.methods():
        params = writer.type_of(method.params)
        result = writer.type_of(method.result)
        errors = " | ".join(str(code) for code in method.errors) or "never"
        entries.append(
            f"  {json.dumps(method.name)}: {{\n    params: {params};\n    result: {result};\n"
            f"    writes: {json.dumps(method.writes)};\n    errors: {errors};\n  }};"
        )
    pushes = [
        f"  {json.dumps(n.name)}: {writer.type_of(n.params)};" for n in registry.notifications()
    ]
    # In declaration order: JSON-RPC's codes, then the IDE's family by family.
    codes = [f"  {camel(e.name)}: {e.code}," for e in ERROR_CODES.values()]
    meanings = [f"  [{e.code}]: {json.dumps(e.meaning)}," for e in ERROR_CODES.values()]
    return "\n".join(
        [
            HEADER,
            writer.bodies(),
            "/** Every method: its params, result, whether it writes, and its own error codes. */",
            "export interface Methods {",
            *entries,
            "}\n",
            "export type MethodName = keyof Methods;\n",
            "/** Every notification the pod sends, with its params. */",
            "export interface Notifications {",
            *pushes,
            "}\n",
            "export type NotificationName = keyof Notifications;\n",
            "/** Every error code the pod answers (JSON-RPC's own and the IDE's). */",
            "export const ErrorCode = {",
            *codes,
            "} as const;\n",
            "export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];\n",
            "export const ERROR_MEANINGS: Record<ErrorCodeValue, string> = {",
            *meanings,
            "};\n",
        ]
    )
