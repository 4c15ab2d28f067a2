"""Ids the client chooses for its long operations (a preview's query_id, a dbt invocation_id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ide_server.workspace.errors import ALREADY_EXISTS, RpcError
from ide_server.workspace.runs import MAX_ID_LENGTH, ClientRuns, check_client_id


class Tab:
    user, role = "alice", "developer"

    async def notify(self, method: str, params: Mapping[str, Any]) -> None:
        pass


@pytest.mark.parametrize(
    "value",
    ["q", "preview-1", "0f9c2b1e-8a3d-4c55-9d7e-1b2c3d4e5f60", "dbt:run.7_x", "a" * MAX_ID_LENGTH],
)
def test_ids_a_browser_would_choose_are_accepted(value: str) -> None:
    check_client_id(value, "query_id")


@pytest.mark.parametrize(
    "value",
    ["", "a" * (MAX_ID_LENGTH + 1), "-q", ".q", "q 1", "q/1", "../x", "q\n", "q\x00", "é"],
)
def test_other_ids_are_refused_with_the_rule(value: str) -> None:
    with pytest.raises(ValueError, match="query_id must be 1 to 64 letters"):
        check_client_id(value, "query_id")


def test_an_id_is_unique_per_tab_while_it_runs() -> None:
    runs: ClientRuns[str] = ClientRuns("invocation_id")
    alice, bob = Tab(), Tab()
    runs.claim(alice, "r1", "alice's run")
    runs.claim(bob, "r1", "bob's run")  # another tab may use the same id
    with pytest.raises(RpcError) as refused:
        runs.claim(alice, "r1", "again")
    assert refused.value.code == ALREADY_EXISTS
    assert "invocation_id 'r1' is already running" in refused.value.message
    assert runs.get(alice, "r1") == "alice's run" and runs.get(bob, "r1") == "bob's run"
    assert len(runs) == 2 and sorted(runs) == ["alice's run", "bob's run"]
    runs.release(alice, "r1")
    runs.release(alice, "r1")  # twice is harmless
    assert runs.get(alice, "r1") is None and runs.get(bob, "r1") == "bob's run"
    runs.claim(alice, "r1", "next")  # free again once it ended
    assert runs.get(alice, "r1") == "next"
