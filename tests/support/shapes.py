"""Check a JSON value against the type the registry declares for it.

The frontend's types are generated from those declarations, so a handler that answers a
field its result type lacks (or omits a required one) would make the generated client
lie. Tests that call methods for real pass their answers and notifications through
:func:`assert_shape`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any


def shape_errors(value: Any, annotation: Any, where: str = "value") -> list[str]:
    """What in ``value`` does not match ``annotation`` (empty when it matches)."""
    if annotation is Any or annotation is object:
        return []
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if any(not shape_errors(value, arg, where) for arg in args):
            return []
        return [f"{where}: {value!r} matches none of {annotation}"]
    if origin is typing.Literal:
        return [] if value in args else [f"{where}: {value!r} is not one of {args}"]
    if origin in (list, tuple):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        item = args[0] if args else Any
        return [e for i, v in enumerate(value) for e in shape_errors(v, item, f"{where}[{i}]")]
    if origin is dict or annotation is dict:
        return [] if isinstance(value, dict) else [f"{where}: {value!r} is not an object"]
    if typing.is_typeddict(annotation) or dataclasses.is_dataclass(annotation):
        return _object_errors(value, annotation, where)
    return [] if _scalar_matches(value, annotation) else [f"{where}: {value!r} is not {annotation}"]


def _scalar_matches(value: Any, annotation: Any) -> bool:
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    raise TypeError(f"cannot check {annotation!r}")


def _object_errors(value: Any, cls: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: {value!r} is not an object"]
    hints = typing.get_type_hints(cls, include_extras=True)
    errors = [f"{where}.{key}: not declared in {cls.__name__}" for key in value if key not in hints]
    for key, hint in hints.items():
        optional = typing.get_origin(hint) is typing.NotRequired
        if typing.get_origin(hint) in (typing.NotRequired, typing.Required):
            (hint,) = typing.get_args(hint)
        if key not in value:
            if not optional:
                errors.append(f"{where}.{key}: missing (required by {cls.__name__})")
            continue
        errors += shape_errors(value[key], hint, f"{where}.{key}")
    return errors


def assert_shape(value: Any, annotation: Any, where: str = "value") -> None:
    errors = shape_errors(value, annotation, where)
    assert not errors, "\n".join(errors)
