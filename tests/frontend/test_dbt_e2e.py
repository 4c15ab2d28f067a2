"""dbt in the browser end to end: the command bar builds the demo project while the panel
streams its log and node results; the pod's refusal of a bad flag is shown; Compile shows
a model's SQL with its refs resolved and marks a broken buffer's line; Preview of a mart
model compiles it and shows its rows.

The tests of this module share one user, hence one session pod: they run in order, and the
previews need the dev database the first test built, and the broken file of the last test
would fail dbt's parse of the project for the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import log_in, open_file, open_project
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(240)

NewContext = Callable[[], Awaitable[BrowserContext]]
BUILD_MS = 180_000
CUSTOMERS = "models/marts/customers.sql"


@pytest.fixture(scope="module")
def dbt_user(make_developer: Callable[..., str]) -> str:
    return make_developer("dbtui")


async def open_ide(new_context: NewContext, web: GatewayProcess, username: str) -> Page:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, username)
    await open_project(page)
    return page


async def run_command(page: Page, line: str) -> None:
    command = page.get_by_test_id("dbt-command")
    await command.fill(line)
    await command.press("Enter")


async def test_command_bar_builds_the_demo_project(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    panel = page.get_by_test_id("dbt-panel")
    # What the panel showed when the first node result arrived: results stream in while
    # the command runs, not all at the end.
    await page.evaluate(
        """() => {
            const panel = document.querySelector('[data-testid=dbt-panel]');
            const nodes = panel.querySelector('[data-testid=dbt-nodes]');
            window.__firstNode = null;
            new MutationObserver(() => {
                if (window.__firstNode === null && nodes.childElementCount > 0) {
                    window.__firstNode = {
                        state: panel.dataset.state,
                        logLines: panel.querySelectorAll('[data-testid=dbt-log-line]').length,
                    };
                }
            }).observe(nodes, { childList: true });
        }"""
    )
    await run_command(page, "dbt build")
    await expect(page.get_by_test_id("dbt-panel-command")).to_have_text("dbt build")
    await expect(panel).to_have_attribute("data-state", "success", timeout=BUILD_MS)
    first = await page.evaluate("() => window.__firstNode")
    assert first == {"state": "running", "logLines": first["logLines"]}, first
    assert first["logLines"] > 0, "no log line had arrived before the first node result"

    # Seeds, staging views, marts and tests, each with its result.
    nodes = page.get_by_test_id("dbt-node")
    customers = nodes.and_(page.locator('[data-unique-id="model.demo_shop.customers"]'))
    await expect(customers).to_have_attribute("data-status", "success")
    await expect(nodes.and_(page.locator('[data-unique-id^="seed."]')).first).to_be_visible()
    await expect(nodes.and_(page.locator('[data-unique-id^="test."]')).first).to_be_visible()
    await expect(page.get_by_test_id("dbt-summary-status")).to_have_text("Succeeded")
    total = await nodes.count()
    assert total >= 10

    # The filter: no errors; every node passed.
    await page.locator("[data-testid=dbt-filter][data-outcome=error]").click()
    await expect(nodes.locator("visible=true")).to_have_count(0)
    await page.locator("[data-testid=dbt-filter][data-outcome=pass]").click()
    await expect(nodes.locator("visible=true")).to_have_count(total)

    # The history has it; the log has dbt's summary lines.
    await expect(page.get_by_test_id("dbt-log-line").first).to_be_visible()
    await page.get_by_test_id("dbt-view-history").click()
    row = page.get_by_test_id("dbt-history-row").first
    await expect(row).to_have_attribute("data-status", "success")
    await expect(row).to_contain_text("dbt build")

    # The up arrow brings the line back.
    await page.get_by_test_id("dbt-command").press("ArrowUp")
    await expect(page.get_by_test_id("dbt-command")).to_have_value("dbt build")


async def test_a_bad_flag_shows_the_pods_message(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    await run_command(page, "build --profiles-dir /tmp")
    error = page.get_by_test_id("dbt-command-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("--profiles-dir")
    # Nothing ran, and the line is kept to be corrected.
    await expect(page.get_by_test_id("dbt-panel")).not_to_have_attribute("data-state", "running")
    await expect(page.get_by_test_id("dbt-command")).to_have_value("build --profiles-dir /tmp")


async def test_tab_completes_commands_flags_and_node_names(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    command = page.get_by_test_id("dbt-command")
    await command.fill("bu")
    await command.press("Tab")
    await expect(command).to_have_value("build ")
    await command.press_sequentially("--full")
    await command.press("Tab")
    await expect(command).to_have_value("build --full-refresh ")
    await command.press_sequentially("-s +cust")
    await command.press("Tab")
    await expect(command).to_have_value("build --full-refresh -s +customers ", timeout=60_000)
    # Several names: as far as they agree, and the choices listed.
    await command.press_sequentially("--exclude stg_")
    await command.press("Tab")
    await expect(command).to_have_value("build --full-refresh -s +customers --exclude stg_")
    options = page.get_by_test_id("dbt-completion")
    await expect(options).to_have_text(
        ["stg_customers", "stg_orders", "stg_payments", "stg_products"]
    )


async def test_compile_shows_the_sql_with_refs_resolved(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    await open_file(page, CUSTOMERS)
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+Shift+Enter")
    compiled = page.get_by_test_id("dbt-compiled")
    await expect(compiled).to_have_attribute("data-state", "done", timeout=60_000)
    sql = page.get_by_test_id("dbt-compiled-sql")
    await expect(sql).to_contain_text("stg_customers")
    text = await sql.inner_text()
    assert "ref(" not in text and "{{" not in text and "{%" not in text, text
    # The Jinja loop over the statuses rendered as dbt renders it.
    assert "'placed', 'shipped', 'completed'" in text

    # Another file's tab: the pane says its SQL is not the open file's.
    await open_file(page, "models/marts/orders.sql")
    await expect(compiled).to_have_attribute("data-stale", "true")
    await page.locator(f'[data-testid=tab][data-path="{CUSTOMERS}"]').click()
    await expect(compiled).to_have_attribute("data-stale", "false")


async def test_preview_of_a_mart_model_shows_rows(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    await open_file(page, CUSTOMERS)
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+Enter")
    results = page.get_by_test_id("results")
    await expect(results).to_have_attribute("data-state", "done", timeout=60_000)
    count = int(await page.get_by_test_id("results-row-count").get_attribute("data-count") or 0)
    assert count > 0
    headers = page.get_by_test_id("results-header-cell")
    await expect(headers.filter(has_text="lifetime_value")).to_have_count(1)


async def test_model_buttons_test_the_open_model_and_downstream(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    await expect(page.get_by_test_id("dbt-model-test")).to_be_disabled()
    await open_file(page, "models/staging/stg_customers.sql")
    await page.get_by_test_id("dbt-scope").select_option("downstream")
    await page.get_by_test_id("dbt-model-test").click()
    panel = page.get_by_test_id("dbt-panel")
    await expect(page.get_by_test_id("dbt-panel-command")).to_have_text(
        "dbt test -s stg_customers+"
    )
    await expect(panel).to_have_attribute("data-state", "success", timeout=BUILD_MS)
    nodes = page.get_by_test_id("dbt-node")
    # Tests of the model and of what is built on it (customers), and only tests.
    await expect(
        nodes.and_(page.locator('[data-unique-id*="stg_customers_"]')).first
    ).to_be_visible()
    await expect(
        nodes.and_(page.locator('[data-unique-id*="_customers_customer_id"]')).first
    ).to_be_visible()
    ids = await nodes.evaluate_all("(els) => els.map((el) => el.dataset.uniqueId)")
    assert ids and all(i.startswith("test.") for i in ids), ids


async def test_ctrl_c_cancels_the_running_build_and_the_next_one_works(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    panel = page.get_by_test_id("dbt-panel")
    await run_command(page, "build")
    await expect(panel).to_have_attribute("data-state", "running")
    await expect(page.get_by_test_id("dbt-cancel")).to_be_visible()
    await expect(page.get_by_test_id("dbt-log-line").first).to_be_visible(timeout=BUILD_MS)
    await page.get_by_test_id("dbt-command").press("Control+c")
    await expect(panel).to_have_attribute("data-state", "cancelled", timeout=10_000)
    await expect(page.get_by_test_id("dbt-summary-status")).to_have_text("Cancelled")
    await expect(page.get_by_test_id("dbt-cancel")).to_be_hidden()

    await run_command(page, "seed")
    await expect(panel).to_have_attribute("data-state", "success", timeout=BUILD_MS)
    await page.get_by_test_id("dbt-view-history").click()
    rows = page.get_by_test_id("dbt-history-row")
    await expect(rows.first).to_contain_text("dbt seed")
    await expect(rows.nth(1)).to_have_attribute("data-status", "cancelled")
    # Rerun from the history runs the cancelled build again, to the end.
    await rows.nth(1).get_by_test_id("dbt-history-rerun").click()
    await expect(page.get_by_test_id("dbt-panel-command")).to_have_text("dbt build")
    await expect(panel).to_have_attribute("data-state", "success", timeout=BUILD_MS)


async def test_another_tab_cancels_the_build_from_the_history(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    first = await open_ide(new_context, web, dbt_user)
    await run_command(first, "build")
    await expect(first.get_by_test_id("dbt-log-line").first).to_be_visible(timeout=BUILD_MS)

    # A second tab (as after a reload) sees the build running and cancels it.
    second = await open_ide(new_context, web, dbt_user)
    await second.get_by_test_id("dbt-view-history").click()
    row = second.get_by_test_id("dbt-history-row").first
    await expect(row).to_have_attribute("data-status", "running")
    await row.get_by_test_id("dbt-history-cancel").click()
    await expect(row).to_have_attribute("data-status", "cancelled", timeout=10_000)
    await expect(row.get_by_test_id("dbt-history-cancel")).to_have_count(0)
    await expect(first.get_by_test_id("dbt-panel")).to_have_attribute("data-state", "cancelled")


async def test_compile_error_marks_the_jinja_line(
    web: GatewayProcess, new_context: NewContext, dbt_user: str
) -> None:
    page = await open_ide(new_context, web, dbt_user)
    await page.get_by_test_id("tree-new-file").click()
    await page.get_by_test_id("dialog-input").fill("analyses/broken_e2e.sql")
    await page.get_by_test_id("dialog-ok").click()
    editor = page.locator('[data-testid=editor][data-path="analyses/broken_e2e.sql"]')
    await expect(editor).to_have_attribute("data-synced", "true")
    await page.locator(".cm-content").click()
    # insert_text, not type: the editor would close the brackets a second time.
    await page.keyboard.insert_text("select 1 as one\n{% if %}\nselect 2")
    await page.keyboard.press("Control+Shift+Enter")
    compiled = page.get_by_test_id("dbt-compiled")
    await expect(compiled).to_have_attribute("data-state", "error", timeout=60_000)
    await expect(page.get_by_test_id("dbt-compiled-error")).to_contain_text("line 2")
    marked = page.locator(".cm-preview-error-line")
    await expect(marked).to_have_count(1)
    await expect(marked).to_have_text("{% if %}")

    # Preview compiles first: the same error, the same line marked.
    await page.locator(".cm-content").click()
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_test_id("results")).to_have_attribute("data-state", "error")
    await expect(page.get_by_test_id("results-error")).to_contain_text("line 2")
    await expect(marked).to_have_text("{% if %}")
