"""Every method answers what its registration declares: the generated client does not lie.

Each ``git/*`` and ``fs/*`` method is called for real (a file:// remote, two volumes
cloned through the pod's own code), and every answer and notification is checked against
its declared TypedDict: no undeclared field, no missing required one, every value of its
declared JSON type. A method added to the registry without a call here fails the
coverage check at the end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ide_server.workspace.clone import ensure_checkout
from ide_server.workspace.methods import build_registry
from ide_server.workspace.rpc import dispatch
from ide_server.workspace.workspace import CallContext, Workspace
from tests.support.shapes import assert_shape
from tests.workspace.git.conftest import make_remote, pod_config

REGISTRY = build_registry()


@dataclass(eq=False)  # hashable: the workspace keeps its clients in a set
class Tab:
    user: str
    role: str = "developer"
    notifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        self.notifications.append((method, dict(params)))

    async def notify_encoded(self, method: str, params: str) -> None:
        await self.notify(method, json.loads(params))


class Pod:
    """One user's volume behind the real dispatcher and the full registry."""

    def __init__(self, root: Path, url: str, user: str) -> None:
        config = pod_config(root, url, user=user, protect_default_branch=False)
        ensure_checkout(config)
        self.workspace = Workspace(config=config, registry=REGISTRY)
        self.client = Tab(user)
        self.peer = Tab("peer")  # another tab of the same session, for the broadcasts
        self.workspace.clients |= {self.client, self.peer}
        self.checked: set[str] = set()

    @property
    def root(self) -> Path:
        return self.workspace.root

    async def ok(self, method: str, params: dict[str, Any] | None = None) -> Any:
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        ctx = CallContext(self.workspace, self.client)
        answer = await dispatch(REGISTRY, ctx, json.dumps(message))
        assert answer is not None and "result" in answer, answer
        declared = REGISTRY.get(method)
        assert declared is not None
        assert_shape(answer["result"], declared.result, method)
        self.checked.add(method)
        return answer["result"]

    def check_notifications(self) -> set[str]:
        seen = set()
        for method, params in [*self.client.notifications, *self.peer.notifications]:
            declared = REGISTRY.get_notification(method)
            assert declared is not None, f"{method} is not declared"
            assert_shape(params, declared.params, method)
            seen.add(method)
        return seen


async def test_every_answer_and_notification_has_its_declared_shape(tmp_path: Path) -> None:
    url = make_remote(tmp_path / "remotes").as_uri()
    alice = Pod(tmp_path / "volumes" / "alice", url, "alice")
    bob = Pod(tmp_path / "volumes" / "bob", url, "bob")
    await _files(alice)
    await _local_git(alice)
    await _remote_git(alice, bob)
    await _conflicts(alice, bob)
    await alice.ok("session/heartbeat")
    await alice.ok("session/status")

    notified = alice.check_notifications() | bob.check_notifications()
    assert {"fs/changed", "git/changed", "git/progress", "git/remote_fetch"} <= notified
    covered = alice.checked | bob.checked
    families = ("fs/", "git/", "session/")
    expected = {name for name in REGISTRY.names() if name.startswith(families)}
    assert expected - covered == set(), "call the new methods in this test"


async def _files(pod: Pod) -> None:
    await pod.ok("fs/mkdir", {"path": "models/marts"})
    written = await pod.ok("fs/write", {"path": "models/marts/a.sql", "content": "select 1\n"})
    await pod.ok("fs/read", {"path": "models/marts/a.sql"})
    await pod.ok("fs/list", {"path": "models"})
    await pod.ok(
        "fs/write",
        {"path": "models/marts/a.sql", "content": "select 2\n", "expected_mtime": written["mtime"]},
    )
    await pod.ok("fs/rename", {"path": "models/marts/a.sql", "new_path": "models/marts/b.sql"})
    await pod.ok("fs/write", {"path": "scratch.txt", "content": "x"})
    await pod.ok("fs/search", {"query": "select", "glob": "*.sql"})
    await pod.ok("fs/search", {"query": "x", "max_results": 1})  # truncated_by set
    await pod.ok("fs/files")
    await pod.ok("fs/read_binary", {"path": "scratch.txt"})
    await pod.ok("fs/delete", {"path": "scratch.txt"})


async def _local_git(pod: Pod) -> None:
    (pod.root / "models" / "orders.sql").write_text("select 2 as id\nfrom raw.orders\n")
    await pod.ok("git/status")
    await pod.ok("git/diff", {})
    await pod.ok("git/diff", {"path": "models/orders.sql"})  # with old_text/new_text
    await pod.ok("git/stage", {"paths": ["models/orders.sql"]})
    await pod.ok("git/diff", {"staged": True})
    await pod.ok("git/unstage", {})
    await pod.ok("git/create_branch", {"name": "feature"})
    await pod.ok("git/commit", {"message": "Orders: id 2"})
    (pod.root / "models" / "customers.sql").write_text("changed\n")
    await pod.ok("git/discard", {"paths": ["models/customers.sql"]})
    log = await pod.ok("git/log", {"limit": 5})
    await pod.ok("git/show", {"commit": log["commits"][0]["id"]})
    await pod.ok("git/pull_request_url")
    await pod.ok("git/revert", {"commit": log["commits"][0]["id"]})
    await pod.ok("git/branches")
    await pod.ok("git/cancel")


async def _remote_git(alice: Pod, bob: Pod) -> None:
    await alice.ok("git/push")
    await bob.ok("git/refresh_remote")  # answers at once, while fetching
    fetched = await bob.ok("git/refresh_remote", {"wait": True})
    assert fetched["new_branches"] == ["feature"]
    await bob.ok("git/fetch", {"prune": True})
    await bob.ok("git/checkout", {"branch": "feature"})  # tracks origin/feature
    await bob.ok("git/pull")
    await bob.ok("git/prune", {"dry_run": True})


async def _conflicts(alice: Pod, bob: Pod) -> None:
    (alice.root / "models" / "orders.sql").write_text("select 3 as id\n")
    await alice.ok("git/commit", {"message": "Alice: 3"})
    await alice.ok("git/push")
    (bob.root / "models" / "orders.sql").write_text("select 4 as id\n")
    await bob.ok("git/commit", {"message": "Bob: 4"})
    pulled = await bob.ok("git/pull")
    assert pulled["outcome"] == "conflicts"
    await bob.ok("git/status")  # merging, with merge_message
    await bob.ok("git/abort_merge")
    assert (await bob.ok("git/pull"))["outcome"] == "conflicts"
    (bob.root / "models" / "orders.sql").write_text("select 34 as id\n")
    await bob.ok("git/resolve", {"path": "models/orders.sql"})
    await bob.ok("git/commit", {"message": "Merge Alice's 3"})
    await bob.ok("git/push")
