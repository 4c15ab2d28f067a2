"""Every method family of the pod, registered explicitly: the whole IDE protocol.

A new family (``dbt/*``) is one more line here; the extension, the generator of the
frontend's protocol file and the gateway's table all read this one registry.
"""

from __future__ import annotations

from . import binary, fs, lint, query, search, session
from .dbt import methods as dbt_methods
from .git import methods as git_methods
from .registry import MethodRegistry

FAMILIES: tuple[MethodRegistry, ...] = (
    fs.methods,
    search.methods,
    binary.methods,
    lint.methods,
    session.methods,
    git_methods.methods,
    query.methods,
    dbt_methods.methods,
)


def build_registry() -> MethodRegistry:
    """A fresh registry holding every method and notification of the pod."""
    registry = MethodRegistry()
    for family in FAMILIES:
        registry.include(family)
    return registry
