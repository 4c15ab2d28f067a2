"""Hostile commits written straight into a test remote's object database.

``git`` and libgit2 refuse to *create* some of these trees (a symlink and a directory of
the same name, a gitlink named ``.ide``), but a remote can serve them all: the objects are
written byte by byte here, as an attacker's own tooling would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, ObjectType

BLOB, LINK, GITLINK = FileMode.BLOB, FileMode.LINK, FileMode.COMMIT
FAKE_SUBMODULE = pygit2.Oid(hex="1" * 40)
SIG = pygit2.Signature("Mallory", "mallory@example.com", 1_700_000_000, 0)


@dataclass(frozen=True)
class Node:
    """One entry to write: ``content`` is a blob's bytes (file or symlink target)."""

    path: str
    mode: int = BLOB
    content: bytes = b""


def _sort_key(name: str, mode: int) -> bytes:
    return name.encode() + (b"/" if mode == FileMode.TREE else b"")


def write_tree(repo: pygit2.Repository, nodes: list[Node]) -> pygit2.Oid:
    """A tree (and its subtrees) holding exactly ``nodes``, duplicates allowed."""
    leaves: list[tuple[str, int, pygit2.Oid]] = []
    children: dict[str, list[Node]] = {}
    for node in nodes:
        head, sep, rest = node.path.partition("/")
        if sep:
            children.setdefault(head, []).append(Node(rest, node.mode, node.content))
        elif node.mode == GITLINK:
            leaves.append((head, node.mode, FAKE_SUBMODULE))
        else:
            leaves.append((head, node.mode, repo.create_blob(node.content)))
    for name, sub in children.items():
        leaves.append((name, FileMode.TREE, write_tree(repo, sub)))
    leaves.sort(key=lambda e: _sort_key(e[0], e[1]))
    data = b"".join(b"%o %s\x00" % (mode, name.encode()) + oid.raw for name, mode, oid in leaves)
    return repo.odb.write(ObjectType.TREE, data)


def base_nodes(repo: pygit2.Repository, branch: str = "main") -> list[Node]:
    """The files of ``branch``'s tip, as nodes (the seed project has no symlinks)."""
    tree = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit).tree
    nodes: list[Node] = []

    def walk(t: pygit2.Tree, prefix: str) -> None:
        for item in t:
            if item.filemode == FileMode.TREE:
                sub = repo[item.id]
                assert isinstance(sub, pygit2.Tree)
                walk(sub, f"{prefix}{item.name}/")
            else:
                blob = repo[item.id]
                assert isinstance(blob, pygit2.Blob)
                nodes.append(Node(f"{prefix}{item.name}", item.filemode, blob.data))

    walk(tree, "")
    return nodes


def add_commit(
    bare: Path, branch: str, nodes: list[Node], *, parent: str = "main", message: str = "evil"
) -> str:
    """Commit ``parent``'s files plus ``nodes`` on ``branch`` in the bare remote."""
    repo = pygit2.Repository(str(bare))
    try:
        parent_commit = repo.references[f"refs/heads/{parent}"].peel(pygit2.Commit)
        tree = write_tree(repo, base_nodes(repo, parent) + nodes)
        oid = repo.create_commit(None, SIG, SIG, message, tree, [parent_commit.id])
        repo.references.create(f"refs/heads/{branch}", oid, force=True)
        return str(oid)
    finally:
        repo.free()


def remove_again(bare: Path, branch: str, message: str = "clean up") -> str:
    """A commit on ``branch`` that goes back to ``main``'s files (the hostile ones removed)."""
    repo = pygit2.Repository(str(bare))
    try:
        tip = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit)
        tree = write_tree(repo, base_nodes(repo, "main"))
        oid = repo.create_commit(None, SIG, SIG, message, tree, [tip.id])
        repo.references.create(f"refs/heads/{branch}", oid, force=True)
        return str(oid)
    finally:
        repo.free()


def reserved_cases(marker: Path) -> dict[str, list[Node]]:
    """Branches that try to put files into the pod's reserved directories."""
    spec = (
        b'{"argv": ["/bin/sh", "-c", "touch %s"], "display_name": "x", "language": "sql"}'
        % str(marker).encode()
    )
    return {
        "ide-kernelspec": [Node(".ide/kernels/ide-sql/kernel.json", content=spec)],
        "ide-state": [Node(".ide/ystore.db", content=b"not sqlite"), Node(".ide/file_id.db")],
        "upper-case": [Node(".IDE/kernels/ide-sql/kernel.json", content=spec)],
        "mixed-case": [Node(".Ide/x")],
        "trailing-dot": [Node(".ide./x")],
        "hfs-ignorable": [Node(".i\u200cde/x")],
        "short-name": [Node("IDE~1/x")],
        "symlink-named-ide": [Node(".ide", LINK, b"models")],
        "symlink-into-ide": [Node("shortcut", LINK, b".ide/kernels")],
        "symlink-into-ide-absolute": [Node("s", LINK, b"/anywhere/volume/.Ide")],
        "symlink-into-git": [Node("hooks", LINK, b".git/hooks")],
        "write-through-symlink": [
            Node("x", LINK, b"."),
            Node("x/.ide/kernels/ide-sql/kernel.json", content=spec),
        ],
        "write-through-case-folded-symlink": [Node("A", LINK, b"models"), Node("a/evil.sql")],
        "gitlink-named-ide": [Node(".ide", GITLINK)],
        "nested-git": [Node("sub/.GIT/config", content=b"[core]\n\tfsmonitor = evil\n")],
        "gitmodules-symlink": [Node(".gitmodules", LINK, b"/etc/passwd")],
    }
