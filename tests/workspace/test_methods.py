"""The pod's registry loads a method family on first use, and answers as the full one does."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from typing import TypedDict

import pytest

from ide_server.protocol import METHODS
from ide_server.workspace.methods import FAMILIES, Family, FamilyRegistry, build_registry
from ide_server.workspace.registry import MethodRegistry
from tests.support.probe import run_probe

PROBE = r"""
import json, sys, tempfile
from pathlib import Path
from ide_server.workspace.launch import defer
defer()
import ide_server.workspace.pod_server, ide_server.workspace.extension
import ide_server.workspace.collab
from ide_server.workspace.config import PodConfig
from ide_server.workspace.methods import FamilyRegistry
from ide_server.workspace.workspace import Workspace
heavy = ("pygit2", "ide_server.workspace.git.methods", "ide_server.workspace.dbt.methods",
         "ide_server.workspace.previews", "sqlglot", "kernels.warehouses")
def loaded():
    return [m for m in heavy if m in sys.modules]
registry = FamilyRegistry()
workspace = Workspace(config=PodConfig(root=Path(tempfile.mkdtemp())), registry=registry)
steps = {"start": loaded(), "unknown": registry.get("nope/read") is None}
steps["unknown_loaded"] = loaded()
steps["busy"] = workspace.is_busy()
steps["fs_read"] = registry.get("fs/read").name
steps["status_names"] = len(registry.names())
steps["after_fs"] = loaded()
steps["git_status"] = registry.get("git/status").name
steps["after_git"] = loaded()
print(json.dumps(steps))
"""


def test_the_pod_starts_without_git_dbt_or_previews_and_loads_a_family_on_first_use() -> None:
    steps = run_probe(PROBE)
    assert steps["start"] == []
    assert steps["unknown"] is True and steps["unknown_loaded"] == []
    assert steps["busy"] is False
    assert steps["fs_read"] == "fs/read"
    assert steps["status_names"] == len(METHODS)
    assert steps["after_fs"] == []  # neither the names nor fs/* need git
    assert steps["git_status"] == "git/status"
    assert "pygit2" in steps["after_git"]
    assert "ide_server.workspace.git.methods" in steps["after_git"]
    assert "ide_server.workspace.dbt.methods" not in steps["after_git"]


def test_a_lazy_registry_answers_as_the_full_one() -> None:
    full = build_registry()
    lazy = FamilyRegistry()
    assert lazy.names() == full.names()
    for name in full.names():
        method, eager = lazy.get(name), full.get(name)
        assert method is not None and eager is not None
        assert (method.params, method.writes, method.errors, method.guest_mode) == (
            eager.params,
            eager.writes,
            eager.errors,
            eager.guest_mode,
        )
    fresh = FamilyRegistry()
    assert fresh.has_notification("git/changed")
    assert not fresh.has_notification("git/nothing")
    assert fresh.write_methods() == full.write_methods()
    assert [n.name for n in fresh.notifications()] == [n.name for n in full.notifications()]
    assert [m.name for m in FamilyRegistry().methods()] == full.names()


def test_every_family_is_loaded_once() -> None:
    lazy = FamilyRegistry()
    for _ in range(2):
        assert lazy.get("fs/read") is not None  # fs/ is three families: none included twice
        assert lazy.get("fs/search") is not None


class _Result(TypedDict):
    ok: bool


@dataclasses.dataclass(frozen=True)
class _Params:
    pass


def test_a_family_declaring_a_name_outside_its_prefixes_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stray = MethodRegistry()

    @stray.method("git/sneaky", _Params, result=_Result)
    async def sneaky(ctx: object, params: _Params) -> dict[str, bool]:
        return {"ok": True}

    module = types.ModuleType("stray_family")
    module.methods = stray  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stray_family", module)
    registry = FamilyRegistry((*FAMILIES, Family("stray_family", ("fs/",))))
    with pytest.raises(ValueError, match="git/sneaky"):
        registry.get("fs/read")


def test_the_generated_names_are_those_of_the_families() -> None:
    assert sorted(METHODS) == build_registry().names()
    assert json.dumps(sorted(METHODS))  # plain data, importable without the pod
