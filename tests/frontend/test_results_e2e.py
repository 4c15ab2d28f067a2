"""The results pane end to end: previews of the demo warehouse stream into the grid."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import log_in, open_project
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(120)

NewContext = Callable[[], Awaitable[BrowserContext]]
SCRATCH = "analyses/preview_e2e.sql"
# Auto-closed brackets are fine to type: typing the closing one steps over it.
STG_ORDERS = "select id as order_id, lower(status) as status from raw.orders order by id"
HUGE = "select count(*) from raw.orders a, raw.orders b, raw.orders c"


@pytest.fixture(scope="module")
def preview_user(make_developer: Callable[..., str]) -> str:
    return make_developer("preview")


async def new_file(page: Page, path: str) -> None:
    await page.get_by_test_id("tree-new-file").click()
    await page.get_by_test_id("dialog-input").fill(path)
    await page.get_by_test_id("dialog-ok").click()
    editor = page.locator(f'[data-testid=editor][data-path="{path}"]')
    await expect(editor).to_have_attribute("data-synced", "true")


async def replace_text(page: Page, sql: str) -> None:
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+a")
    await page.keyboard.type(sql)
    await page.keyboard.press("Escape")  # close a completion popup, if one opened


async def test_preview_streams_rows_into_the_grid(
    web: GatewayProcess, new_context: NewContext, preview_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, preview_user)
    await open_project(page)
    await new_file(page, SCRATCH)
    results = page.get_by_test_id("results")
    count = page.get_by_test_id("results-row-count")

    # The whole file, capped at 500 rows of a million.
    await replace_text(page, STG_ORDERS)
    await page.keyboard.press("Control+Enter")
    await expect(results).to_have_attribute("data-state", "done", timeout=60_000)
    await expect(count).to_have_attribute("data-count", "500")
    await expect(page.get_by_test_id("results-truncated")).to_have_text("Limited to 500 rows")
    elapsed = page.get_by_test_id("results-elapsed")
    await expect(elapsed).to_have_text(re.compile(r"^\d+ ms$|^\d+\.\d+ s$"))
    headers = page.get_by_test_id("results-header-cell")
    await expect(headers).to_have_count(2)
    await expect(headers.first).to_contain_text("order_id")
    first = page.locator("[data-testid=results-row][data-index='0'] [data-testid=results-cell]")
    await expect(first.first).to_have_text("1")
    # Virtualized: far fewer than 500 rows in the DOM; scrolling shows the last one.
    assert await page.get_by_test_id("results-row").count() < 100
    await page.get_by_test_id("results-grid").evaluate(
        "(el) => { el.scrollTop = el.scrollHeight; }"
    )
    last = page.locator("[data-testid=results-row][data-index='499'] [data-testid=results-cell]")
    await expect(last.first).to_have_text("500")

    # A selection runs alone; a smaller result is not "limited".
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("select 42 as answer")
    await page.keyboard.press("Escape")
    await page.keyboard.press("Shift+Home")
    await page.get_by_test_id("results-preview").click()
    await expect(results).to_have_attribute("data-state", "done", timeout=30_000)
    await expect(count).to_have_attribute("data-count", "1")
    await expect(page.get_by_test_id("results-truncated")).to_have_count(0)
    await expect(headers).to_have_text(["answerINTEGER"])
    cells = page.get_by_test_id("results-cell")
    await expect(cells).to_have_text(["42"])

    # Another row cap from the picker.
    await page.get_by_test_id("results-limit").select_option("100")
    await replace_text(page, "select * from raw.orders")
    await page.keyboard.press("Control+Enter")
    await expect(results).to_have_attribute("data-state", "done", timeout=30_000)
    await expect(count).to_have_attribute("data-count", "100")
    await expect(page.get_by_test_id("results-truncated")).to_have_text("Limited to 100 rows")


async def test_errors_are_marked_in_the_editor_and_previews_cancel(
    web: GatewayProcess, new_context: NewContext, preview_user: str
) -> None:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, preview_user)
    await open_project(page)
    await page.locator('[data-testid=tree-item][data-path="analyses"]').click()
    await page.locator(f'[data-testid=tree-item][data-path="{SCRATCH}"]').click()
    await expect(page.locator(f'[data-testid=editor][data-path="{SCRATCH}"]')).to_have_attribute(
        "data-synced", "true"
    )
    results = page.get_by_test_id("results")

    # The warehouse's error, with its position underlined in the editor.
    await replace_text(page, "select id,\nnosuch from raw.orders")
    await page.keyboard.press("Control+Enter")
    await expect(results).to_have_attribute("data-state", "error", timeout=60_000)
    error = page.get_by_test_id("results-error")
    await expect(error).to_contain_text("nosuch")
    await expect(error).to_contain_text("line 2, column 1")
    await expect(page.get_by_test_id("preview-error-mark")).to_have_text("nosuch")
    # The next edit clears the mark.
    await page.keyboard.type(" ")
    await expect(page.get_by_test_id("preview-error-mark")).to_have_count(0)

    # Refused before the warehouse: a write is a JSON-RPC error, shown the same way.
    await replace_text(page, "drop table raw.orders")
    await page.keyboard.press("Control+Enter")
    await expect(results).to_have_attribute("data-state", "error")
    await expect(page.get_by_test_id("results-error")).to_contain_text("DROP")

    # Cancel a query that would run for hours; the next preview works.
    await replace_text(page, HUGE)
    await page.keyboard.press("Control+Enter")
    await expect(results).to_have_attribute("data-state", "running")
    await page.wait_for_timeout(500)
    await page.get_by_test_id("results-cancel").click()
    await expect(results).to_have_attribute("data-state", "cancelled", timeout=10_000)
    await expect(page.get_by_test_id("results-status")).to_contain_text("Cancelled")
    await replace_text(page, "select 1 as one")
    await page.keyboard.press("Control+Enter")
    await expect(results).to_have_attribute("data-state", "done", timeout=30_000)
    await expect(page.get_by_test_id("results-cell")).to_have_text(["1"])
