"""The loop every background service of the gateway runs in."""

from __future__ import annotations

import asyncio

from session_manager.periodic import Periodic


async def test_a_failing_round_is_logged_and_the_next_one_runs(caplog) -> None:
    rounds: list[int] = []

    async def round() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the database said no")

    loop = Periodic("probe", round, 0.01, first_round_at_once=True)
    loop.start()
    while len(rounds) < 3:
        await asyncio.sleep(0.01)
    await loop.stop()
    assert "probe failed" in caplog.text and "the database said no" in caplog.text
    done = len(rounds)
    await asyncio.sleep(0.05)
    assert len(rounds) == done  # stopped means no more rounds


async def test_start_twice_runs_one_loop_and_stop_twice_is_harmless() -> None:
    running = 0
    peak = 0

    async def round() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1

    loop = Periodic("once", round, 0.001, first_round_at_once=True)
    loop.start()
    loop.start()
    await asyncio.sleep(0.1)
    await loop.stop()
    await loop.stop()
    assert peak == 1 and not loop.running


async def test_without_first_round_at_once_a_stop_before_the_interval_runs_nothing() -> None:
    rounds = 0

    async def round() -> None:
        nonlocal rounds
        rounds += 1

    loop = Periodic("later", round, 3600)
    loop.start()
    await asyncio.sleep(0.05)
    await loop.stop()
    assert rounds == 0


async def test_stop_cancels_a_round_in_progress() -> None:
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def round() -> None:
        entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = Periodic("long", round, 1, first_round_at_once=True)
    loop.start()
    await entered.wait()
    await asyncio.wait_for(loop.stop(), 5)
    assert cancelled.is_set()
