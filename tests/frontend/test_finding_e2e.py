"""Finding things: search in files (grouped by file, a click opens at the line), the
command palette (files by fuzzy name, commands) and the shortcut list."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, expect

from tests.frontend.ide import log_in, open_project, tab
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(120)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def finder(make_developer: Callable[..., str]) -> str:
    return make_developer("finder")


async def test_search_in_files_then_palette(
    web: GatewayProcess, new_context: NewContext, finder: str
) -> None:
    word = f"findme{secrets.token_hex(4)}"
    path = f"models/found_{secrets.token_hex(2)}.sql"
    page = await (await new_context()).new_page()
    await log_in(page, web.url, finder)
    await open_project(page)
    volume = web.data_dir / "volumes" / finder / "demo"
    (volume / path).write_text(f"select 1 as a\n\n  -- the {word} line\nselect 2\n")
    (volume / "models" / "other.yml").write_text(f"# {word}\n")

    # Ctrl-Shift-F: the search panel, results grouped by file.
    await page.keyboard.press("Control+Shift+F")
    query = page.get_by_test_id("search-query")
    await expect(query).to_be_focused()
    await query.fill(word)
    await query.press("Enter")
    summary = page.get_by_test_id("search-summary")
    await expect(summary).to_have_text("2 results in 2 files")
    files = page.get_by_test_id("search-file")
    await expect(files).to_have_count(2)
    match = page.locator(f'[data-testid=search-match][data-path="{path}"]')
    await expect(match).to_have_attribute("data-line", "3")
    await expect(match).to_contain_text(word)
    await match.click()
    await expect(tab(page, path)).to_have_attribute("data-active", "true")
    await expect(page.locator(".cm-activeLine")).to_contain_text(f"the {word} line")

    # A bad regular expression is said as such.
    await page.get_by_test_id("search-regex").check()
    await query.fill("(unclosed")
    await query.press("Enter")
    await expect(summary).to_have_attribute("data-state", "error")
    await expect(summary).to_contain_text("regular expression")

    # Ctrl-P: a file by fuzzy name.
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+p")
    palette = page.get_by_test_id("palette")
    await expect(palette).to_be_visible()
    await page.get_by_test_id("palette-input").fill("stgcust")
    first = page.get_by_test_id("palette-item").first
    await expect(first).to_have_attribute("data-detail", "models/staging/stg_customers.sql")
    await page.keyboard.press("Enter")
    await expect(palette).to_be_hidden()
    await expect(tab(page, "models/staging/stg_customers.sql")).to_have_attribute(
        "data-active", "true"
    )

    # Ctrl-Shift-P: commands.
    await page.keyboard.press("Control+Shift+P")
    await expect(palette).to_be_visible()
    await page.keyboard.type("view git")
    await expect(page.get_by_test_id("palette-item").first).to_have_attribute(
        "data-label", "View: Git"
    )
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("git-panel")).to_be_visible()

    # "?" outside a text field: the shortcuts.
    await page.get_by_test_id("tabs").click()
    await page.keyboard.press("?")
    await expect(palette).to_be_visible()
    await expect(page.get_by_test_id("shortcut").first).to_contain_text("Ctrl/Cmd-P")
    await page.keyboard.press("Escape")
    await expect(palette).to_be_hidden()
