"""The wake-up a session's followers get when this replica changes its row."""

from __future__ import annotations

import asyncio

from session_manager.changes import LocalChanges


async def test_a_change_wakes_its_follower_at_once_and_no_other() -> None:
    changes = LocalChanges()
    with changes.watch("a") as a, changes.watch("b") as b:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, changes.notify, ["a"])
        started = loop.time()
        await changes.wait(a, 30)
        assert loop.time() - started < 10  # woken by the change, not by the 30 s timeout
        assert not a.is_set()  # cleared for the next wait
        assert not b.is_set()  # another session's follower slept on


async def test_a_change_made_before_the_wait_is_not_missed() -> None:
    changes = LocalChanges()
    with changes.watch("a") as a:
        changes.notify(["a"])  # e.g. while the follower was reading the row
        await asyncio.wait_for(changes.wait(a, 30), 5)


async def test_without_a_change_the_wait_ends_at_its_timeout() -> None:
    changes = LocalChanges()
    with changes.watch("a") as a:
        await changes.wait(a, 0.01)
        assert not a.is_set()
