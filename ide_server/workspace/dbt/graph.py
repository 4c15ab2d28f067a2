"""Lineage around one node and the names an editor completes, from a parsed manifest."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

_MACRO_SIGNATURE = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(([^)]*)\)")


class UnknownNode(LookupError):
    pass


def _members(manifest: Any) -> dict[str, Any]:
    return {**manifest.nodes, **manifest.sources, **getattr(manifest, "exposures", {})}


def _describe(node: Any) -> dict[str, Any]:
    return {
        "unique_id": node.unique_id,
        "name": node.name,
        "resource_type": str(node.resource_type),
        "path": node.original_file_path,
    }


def find_node(manifest: Any, path: str | None, unique_id: str | None) -> Any:
    members = _members(manifest)
    if unique_id is not None:
        if unique_id in members:
            return members[unique_id]
        raise UnknownNode(f"no node {unique_id} in this project")
    for node in members.values():
        if node.original_file_path == path and getattr(node, "test_metadata", None) is None:
            return node
    raise UnknownNode(f"{path} is not a node of this project")


def lineage(manifest: Any, start: Any, upstream: int, downstream: int) -> dict[str, Any]:
    """The nodes within ``upstream``/``downstream`` hops of ``start`` and the edges between."""
    members = _members(manifest)
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = defaultdict(list)
    for uid, node in members.items():
        deps = list(getattr(getattr(node, "depends_on", None), "nodes", []) or [])
        parents[uid] = [d for d in deps if d in members]
        for dep in parents[uid]:
            children[dep].append(uid)
    seen = {start.unique_id}
    for links, depth in ((parents, upstream), (children, downstream)):
        frontier = {start.unique_id}
        for _ in range(max(0, depth)):
            frontier = {n for f in frontier for n in links.get(f, [])} - seen
            seen |= frontier
    edges = sorted([p, c] for c in seen for p in parents.get(c, []) if p in seen)
    nodes = [_describe(members[uid]) for uid in sorted(seen)]
    return {"nodes": nodes, "edges": edges}


def catalog(manifest: Any, warehouse_columns: dict[str, list[str]]) -> dict[str, Any]:
    """Models, sources, seeds, snapshots, macros and known columns, for completion.

    ``warehouse_columns`` maps ``schema.table`` (lower case) of built relations to their
    columns, from the warehouse's information schema; schema.yml's columns come first.
    """
    out: dict[str, list[dict[str, Any]]] = {"models": [], "seeds": [], "snapshots": []}
    for node in manifest.nodes.values():
        kind = f"{node.resource_type}s"
        if kind not in out:
            continue
        documented = list(node.columns)
        built = warehouse_columns.get(f"{node.schema}.{node.alias}".lower(), [])
        out[kind].append(
            {
                "name": node.name,
                "unique_id": node.unique_id,
                "path": node.original_file_path,
                "description": node.description or "",
                "columns": list(dict.fromkeys([*documented, *built])),
            }
        )
    sources = [
        {
            "source": s.source_name,
            "table": s.name,
            "unique_id": s.unique_id,
            "description": s.description or "",
            "columns": list(
                dict.fromkeys(
                    [*s.columns, *warehouse_columns.get(f"{s.schema}.{s.identifier}".lower(), [])]
                )
            ),
        }
        for s in manifest.sources.values()
    ]
    return {**out, "sources": sources, "macros": _macros(manifest)}


def _macros(manifest: Any) -> list[dict[str, Any]]:
    macros = []
    for macro in manifest.macros.values():
        if macro.package_name.startswith("dbt") and macro.name.startswith(
            ("default__", "duckdb__", "postgres__")
        ):
            continue  # adapter dispatch implementations, never called by name
        arguments = [a.name for a in macro.arguments] or _signature(macro)
        macros.append({"name": macro.name, "package": macro.package_name, "arguments": arguments})
    return macros


def _signature(macro: Any) -> list[str]:
    match = _MACRO_SIGNATURE.search(macro.macro_sql or "")
    if not match:
        return []
    return [a.split("=")[0].strip() for a in match.group(2).split(",") if a.strip()]
