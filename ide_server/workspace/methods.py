"""Every method family of the pod, registered explicitly: the whole IDE protocol.

A new family (``dbt/*``) is one more line here; the extension, the generator of the
frontend's protocol file and the gateway's table all read this one list.

The pod imports a family the first time one of its names is asked for
(:class:`FamilyRegistry`), not at start: the first keystroke needs ``fs/*`` only, while
git brings pygit2 and dbt its models, about a tenth of the pod's start.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ide_server.protocol import METHODS

from .registry import Method, MethodRegistry, Notification


@dataclass(frozen=True)
class Family:
    module: str  # a module of this package whose ``methods`` is a MethodRegistry
    # The names of its methods and notifications: "fs/" covers every name under fs/,
    # "fs/search" that name alone (so that fs/read does not load the search's pygit2).
    prefixes: tuple[str, ...]

    def covers(self, name: str) -> bool:
        return any(name.startswith(p) if p.endswith("/") else name == p for p in self.prefixes)

    def load(self) -> MethodRegistry:
        registry: MethodRegistry = importlib.import_module(self.module, __package__).methods
        strays = [
            name
            for name in [m.name for m in registry.methods()]
            + [n.name for n in registry.notifications()]
            if not self.covers(name)
        ]
        if strays:
            raise ValueError(f"{self.module} declares {strays} outside {self.prefixes}")
        return registry


FAMILIES: tuple[Family, ...] = (
    Family(".fs", ("fs/",)),
    Family(".search", ("fs/search", "fs/files")),
    Family(".binary", ("fs/read_binary",)),
    Family(".lint", ("format/", "lint/")),
    Family(".session", ("session/",)),
    Family(".git.methods", ("git/",)),
    Family(".query", ("query/",)),
    Family(".dbt.methods", ("dbt/",)),
)


class FamilyRegistry(MethodRegistry):
    """The pod's registry: a family is included the first time one of its names is used.

    A name no family covers loads nothing. :meth:`names` answers from the generated table
    (:mod:`ide_server.protocol`, checked against the families by the tests), so that
    ``session/status`` does not load every family at each connect.
    """

    def __init__(self, families: tuple[Family, ...] = FAMILIES) -> None:
        super().__init__()
        self._pending = list(families)

    def _load_for(self, name: str | None) -> None:
        for family in [f for f in self._pending if name is None or f.covers(name)]:
            self.include(family.load())
            self._pending.remove(family)

    def get(self, name: str) -> Method | None:
        self._load_for(name)
        return super().get(name)

    def get_notification(self, name: str) -> Notification | None:
        self._load_for(name)
        return super().get_notification(name)

    def has_notification(self, name: str) -> bool:
        return self.get_notification(name) is not None

    def names(self) -> list[str]:
        return sorted(METHODS)

    def methods(self) -> list[Method]:
        self._load_for(None)
        return super().methods()

    def notifications(self) -> list[Notification]:
        self._load_for(None)
        return super().notifications()

    def write_methods(self) -> frozenset[str]:
        self._load_for(None)
        return super().write_methods()


def build_registry() -> MethodRegistry:
    """A registry holding every method and notification of the pod, all imported now."""
    registry = MethodRegistry()
    for family in FAMILIES:
        registry.include(family.load())
    return registry
