"""The History view lists the stored invocations of the project, past sessions included,
with download links for the debug log and the artifacts."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, expect

from tests.frontend.ide import log_in, open_project
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(240)


async def test_history_offers_the_stored_log_and_artifacts(
    web: GatewayProcess,
    new_context: Callable[[], Awaitable[BrowserContext]],
    make_developer: Callable[..., str],
) -> None:
    user = make_developer("histui")
    page = await (await new_context()).new_page()
    await log_in(page, web.url, user)
    await open_project(page)
    command = page.get_by_test_id("dbt-command")
    await command.fill("dbt seed")
    await command.press("Enter")
    panel = page.get_by_test_id("dbt-panel")
    await expect(panel).to_have_attribute("data-state", "success", timeout=120_000)

    # The gateway collects it within seconds; the History view reads the index each time.
    row = page.get_by_test_id("dbt-history-row").first
    log_link = row.locator("[data-testid=dbt-download][data-file='dbt.log']")
    results_link = row.locator("[data-testid=dbt-download][data-file='run_results.json']")
    deadline = time.monotonic() + 60
    while True:
        await page.get_by_test_id("dbt-view-run").click()
        await page.get_by_test_id("dbt-view-history").click()
        await expect(row).to_have_attribute("data-status", "success")
        if await results_link.count() > 0:
            break
        assert time.monotonic() < deadline, "the stored artifacts never showed"
        await page.wait_for_timeout(500)
    await expect(row).to_contain_text("dbt seed")
    log = await page.request.get(web.url + (await log_link.get_attribute("href") or ""))
    assert log.ok and "country_codes" in await log.text()
    results = await page.request.get(web.url + (await results_link.get_attribute("href") or ""))
    assert results.ok and (await results.json())["results"][0]["status"] == "success"
