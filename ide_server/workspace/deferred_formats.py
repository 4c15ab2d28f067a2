"""jsonschema's slowest format checkers, with their libraries imported on first use.

jupyter_server validates its event schemas with jsonschema, whose format checkers import
every optional library they find at import time. Two of them cost most of a pod's start:
``rfc3987_syntax`` compiles dozens of Lark grammars when imported (over a second here) and
``isoduration`` brings ``arrow`` (half a second). The checks they back ("iri",
"iri-reference", "duration") are only used when an event carries such a field. Two more
compile their regular expressions at import (``rfc3986_validator`` for "uri" and
"uri-reference", ``rfc3339_validator`` for "date-time": about 10 ms together).

:func:`defer` puts a small stand-in for each in ``sys.modules`` before jupyter_server is
imported. jsonschema binds to the stand-in's functions; the real library is imported the
first time one of them is called, and from then on ``sys.modules`` holds the real one, so
no check is lost and any later ``import`` gets the real module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any


def _load(name: str, stand_in: types.ModuleType) -> Any:
    if sys.modules.get(name) is stand_in:
        del sys.modules[name]
    return importlib.import_module(name)


def _functions(name: str, *functions: str) -> Callable[[], types.ModuleType]:
    """A builder of the stand-in of ``name`` whose ``functions`` call the real ones."""

    def build() -> types.ModuleType:
        module = types.ModuleType(name, "Imported on first use (deferred_formats).")
        for function in functions:

            def call(*args: Any, _function: str = function, **kwargs: Any) -> Any:
                return getattr(_load(name, module), _function)(*args, **kwargs)

            call.__name__ = function
            setattr(module, function, call)
        return module

    return build


class DurationParsingException(ValueError):
    """What the stand-in raises for a malformed duration (the real library's own error)."""


def _isoduration() -> types.ModuleType:
    module = types.ModuleType("isoduration", "Imported on first use (deferred_formats).")

    def parse_duration(value: str) -> Any:
        real = _load("isoduration", module)
        try:
            return real.parse_duration(value)
        except real.DurationParsingException as exc:
            raise DurationParsingException(str(exc)) from exc

    module.parse_duration = parse_duration  # type: ignore[attr-defined]
    module.DurationParsingException = DurationParsingException  # type: ignore[attr-defined]
    return module


_STAND_INS = {
    "rfc3987_syntax": _functions("rfc3987_syntax", "is_valid_syntax"),
    "isoduration": _isoduration,
    "rfc3986_validator": _functions("rfc3986_validator", "validate_rfc3986"),
    "rfc3339_validator": _functions("rfc3339_validator", "validate_rfc3339"),
}


def defer() -> list[str]:
    """Install the stand-ins for the libraries that are installed and not yet imported."""
    installed = []
    for name, build in _STAND_INS.items():
        if name in sys.modules or importlib.util.find_spec(name) is None:
            continue
        sys.modules[name] = build()
        installed.append(name)
    return installed
