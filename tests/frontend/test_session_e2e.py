"""The session page and the file tree end to end in headless Chromium: stop a session and
start it again, an unknown session, new folders and files."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import (
    SESSION_START_MS,
    expect_editor_to_contain,
    log_in,
    open_file,
    open_project,
    tab,
    tree_item,
    type_at_end,
    wait_connected,
)
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(180)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def session_user(make_developer: Callable[..., str]) -> str:
    return make_developer("lifecycle")


async def create_in_tree(page: Page, button: str, path: str) -> None:
    await page.get_by_test_id(button).click()
    await page.get_by_test_id("dialog-input").fill(path)
    await page.get_by_test_id("dialog-ok").click()
    await expect(page.get_by_test_id("dialog")).to_have_count(0)


async def test_new_folder_then_a_new_file_in_it(
    web: GatewayProcess, new_context: NewContext, session_user: str
) -> None:
    folder = f"models/area_{secrets.token_hex(3)}"
    path = f"{folder}/first.sql"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, session_user)
    await open_project(page)
    await tree_item(page, "models").click()

    await create_in_tree(page, "tree-new-folder", folder)
    created = tree_item(page, folder)
    await expect(created).to_have_attribute("data-type", "directory")
    await expect(created).to_have_attribute("aria-selected", "true")
    volume = web.data_dir / "volumes" / session_user / "demo"
    assert (volume / folder).is_dir()

    # The new file goes into the selected folder, and opens.
    await page.get_by_test_id("tree-new-file").click()
    await expect(page.get_by_test_id("dialog-input")).to_have_value(f"{folder}/")
    await page.get_by_test_id("dialog-input").fill(path)
    await page.get_by_test_id("dialog-ok").click()
    await expect(tab(page, path)).to_have_attribute("data-active", "true")
    await expect(page.locator(f'[data-testid=editor][data-path="{path}"]')).to_have_attribute(
        "data-synced", "true"
    )
    await expect(tree_item(page, path)).to_have_attribute("data-type", "file")
    assert (volume / path).read_text() == ""

    # Names that exist are refused in the dialog, with the reason, and nothing changes.
    for button, name, reason in (
        ("tree-new-folder", folder, "That folder already exists."),
        ("tree-new-file", path, "That file already exists."),
    ):
        await page.get_by_test_id(button).click()
        await page.get_by_test_id("dialog-input").fill(name)
        await page.get_by_test_id("dialog-ok").click()
        await expect(page.get_by_test_id("dialog-error")).to_have_text(reason)
        await page.get_by_test_id("dialog-cancel").click()
    assert sorted(p.name for p in (volume / folder).iterdir()) == ["first.sql"]


async def test_stop_the_session_then_start_it_again(
    web: GatewayProcess, new_context: NewContext, session_user: str
) -> None:
    path = "models/staging/stg_orders.sql"
    line = f"-- before stopping {secrets.token_hex(4)}"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, session_user)
    first = await open_project(page)
    # The projects page says which sessions run; Open rejoins the running one.
    await page.goto(f"{web.url}/#/")
    row = page.locator('[data-testid=project-row][data-project="demo"]')
    await expect(row.get_by_test_id("project-session")).to_have_attribute("data-state", "ready")
    await expect(row.get_by_test_id("project-session")).to_have_text("Running")
    assert await open_project(page) == first
    await open_file(page, path)
    await type_at_end(page, line)

    # Stopping asks first: Cancel keeps the session.
    await page.get_by_test_id("stop-session").click()
    await expect(page.get_by_test_id("dialog")).to_contain_text("Stop the session?")
    await page.get_by_test_id("dialog-cancel").click()
    await expect(page.get_by_test_id("ide")).to_have_count(1)
    await expect(page.get_by_test_id("status-connection")).to_have_attribute("data-state", "open")
    await page.get_by_test_id("stop-session").click()
    await page.get_by_test_id("dialog-ok").click()
    ended = page.get_by_test_id("session-ended")
    await expect(ended).to_have_attribute("data-state", "stopped", timeout=30_000)
    await expect(page.get_by_test_id("session-state-badge")).to_have_attribute(
        "data-state", "stopped"
    )
    await expect(page.get_by_test_id("stop-session")).to_be_hidden()
    await expect(page.get_by_test_id("ide")).to_have_count(0)
    on_disk = (web.data_dir / "volumes" / session_user / "demo" / path).read_text()
    assert line in on_disk

    await page.get_by_test_id("session-retry").click()
    await wait_connected(page)
    second = await page.get_by_test_id("ide").get_attribute("data-session")
    assert second and second != first
    assert page.url.endswith(f"#/session/{second}")
    await open_file(page, path)
    await expect_editor_to_contain(page, line)


async def test_an_unknown_session_says_so(
    web: GatewayProcess, new_context: NewContext, session_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, session_user)
    await page.goto(f"{web.url}/#/session/{secrets.token_hex(16)}")
    await expect(page.get_by_test_id("session-missing")).to_be_visible(timeout=SESSION_START_MS)
    await expect(page.get_by_test_id("stop-session")).to_be_hidden()


async def test_the_status_bar_shows_the_warehouse_connection_in_use(
    web: GatewayProcess, new_context: NewContext, session_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, session_user)
    await open_project(page)
    warehouse = page.get_by_test_id("status-warehouse")
    # The demo project's connection: the developer's own DuckDB dev database, where dbt
    # builds into schema analytics, with the demo warehouse attached read-only.
    await expect(warehouse).to_have_text("DuckDB · dev · analytics")
    await expect(warehouse).to_have_attribute("data-type", "duckdb")
    await expect(warehouse).to_have_attribute("title", re.compile("attached read-only: demo"))
