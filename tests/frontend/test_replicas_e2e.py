"""Two gateway replicas on one PostgreSQL behind one origin: when the replica a browser is
connected through dies (kill -9), the browser moves to the other by itself and the
session, its open document and the text not yet saved carry on in the same pod."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import expect_editor_to_contain, log_in, open_file, open_project, tab
from tests.support.client import Api
from tests.support.forwarder import Forwarder, forwarding_to
from tests.support.gateway import PASSWORD, GatewayProcess, two_replicas

pytestmark = pytest.mark.timeout(240)

NewContext = Callable[[], Awaitable[BrowserContext]]
PATH = "models/staging/stg_orders.sql"


@pytest.fixture
def balanced(
    tmp_path: Path, frontend_dist: None
) -> Iterator[tuple[Forwarder, GatewayProcess, GatewayProcess]]:
    """Replicas A and B, reached through one forwarder (the browser's only origin) that
    points at A. Autosave is slow, so text typed but not saved lives only in the pod's
    room, and what reaches the disk is what an explicit save wrote."""
    with forwarding_to(0) as forwarder:
        with two_replicas(tmp_path, allowed_origins=forwarder.origin, save_delay="600") as (
            first,
            second,
        ):
            forwarder.point_at(first.port)
            yield forwarder, first, second


async def connection_state(page: Page) -> str | None:
    return await page.get_by_test_id("status-connection").get_attribute("data-state")


async def test_a_browser_moves_to_the_other_replica_with_its_unsaved_text(
    balanced: tuple[Forwarder, GatewayProcess, GatewayProcess], new_context: NewContext
) -> None:
    forwarder, first, second = balanced
    user = f"mover{secrets.token_hex(3)}"
    first.cli("user", "add", user, "--password", PASSWORD)
    first.cli("member", "add", "demo", user, "developer")
    saved, before_kill, offline, after = (
        f"-- {what} {secrets.token_hex(4)}"
        for what in ("saved before", "typed just before the kill", "typed offline", "typed on B")
    )

    page = await (await new_context()).new_page()
    await log_in(page, forwarder.origin, user)
    session_id = await open_project(page)
    pod_pid = first.pod_pid(session_id)
    await open_file(page, PATH)
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+End")
    await page.keyboard.type(f"\n{saved}")
    await page.keyboard.press("Control+s")
    await expect(tab(page, PATH)).to_have_attribute("data-dirty", "false")
    on_disk = first.data_dir / "volumes" / user / "demo" / PATH
    assert saved in on_disk.read_text()

    # Typed, then the replica dies at once: the last keystrokes may still be in flight.
    await page.keyboard.type(f"\n{before_kill}")
    first.kill()
    await expect(page.get_by_test_id("status-connection")).not_to_have_attribute(
        "data-state", "open"
    )
    await page.keyboard.type(f"\n{offline}")
    await expect_editor_to_contain(page, offline)

    # The load balancer notices and sends new connections to B; nobody reloads the page.
    forwarder.point_at(second.port)
    await expect(page.get_by_test_id("status-connection")).to_have_attribute(
        "data-state", "open", timeout=60_000
    )
    assert await page.get_by_test_id("ide").get_attribute("data-session") == session_id
    await page.keyboard.type(f"\n{after}")
    for line in (saved, before_kill, offline, after):
        await expect_editor_to_contain(page, line)

    # The pod's room has it all (a second tab through B sees it before any save), and
    # the disk has only what was saved: the text carried on unsaved, in the same pod.
    other = await (await new_context()).new_page()
    await log_in(other, forwarder.origin, user)
    assert await open_project(other) == session_id
    await open_file(other, PATH)
    for line in (saved, before_kill, offline, after):
        await expect_editor_to_contain(other, line)
    await expect(tab(page, PATH)).to_have_attribute("data-dirty", "true")
    assert before_kill not in on_disk.read_text()

    await page.keyboard.press("Control+s")
    await expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    await expect(tab(other, PATH)).to_have_attribute("data-dirty", "false")
    text = on_disk.read_text()
    for line in (saved, before_kill, offline, after):
        assert text.count(line) == 1, f"{line!r} is not saved exactly once"
    assert second.pod_pid(session_id) == pod_pid, "the pod was restarted"
    api = Api(forwarder.origin)
    assert api.login(user, PASSWORD).status_code == 200
    assert api.http.get(f"/api/sessions/{session_id}").json()["state"] == "ready"
