"""Lint and format from the browser: problems in the editor and in the problems list,
Format as one edit through the room (the other browser sees it), undone in one step."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import expect_editor_to_contain, log_in, open_file, open_project
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(150)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def lint_user(make_developer: Callable[..., str]) -> str:
    return make_developer("lint")


async def command(page: Page, title: str) -> None:
    await page.keyboard.press("Control+Shift+P")
    await page.keyboard.type(title)
    await expect(page.get_by_test_id("palette-item").first).to_have_attribute("data-label", title)
    await page.keyboard.press("Enter")


async def test_lint_and_format_the_open_file(
    web: GatewayProcess, new_context: NewContext, lint_user: str
) -> None:
    path = f"models/ugly_{secrets.token_hex(3)}.sql"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, lint_user)
    await open_project(page)
    volume = web.data_dir / "volumes" / lint_user / "demo"
    (volume / ".sqlfluff").write_text("[sqlfluff]\ndialect = duckdb\n")
    (volume / path).write_text("select a,b from   t\n")
    await page.get_by_test_id("tree-refresh").click()
    await open_file(page, path)
    partner = await (await new_context()).new_page()
    await log_in(partner, web.url, lint_user)
    await open_project(partner)
    await open_file(partner, path)

    await command(page, "Lint: Lint the open file")
    problem = page.locator(f'[data-testid=problem][data-path="{path}"][data-code="LT09"]')
    await expect(problem).to_be_visible(timeout=60_000)
    await expect(page.locator(".cm-lintRange").first).to_be_visible()

    await page.locator(".cm-content").click()
    await page.keyboard.press("Shift+Alt+F")
    await expect_editor_to_contain(page, "    a,")
    await expect_editor_to_contain(partner, "    a,")
    # One undo takes the whole format back.
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+z")
    await expect_editor_to_contain(page, "select a,b from   t")
