"""dbt's lineage and names in the browser: the lineage tab of a mart model shows its parents
and grandparents, "wider" reaches further upstream, a double-click opens a node's file;
the editor completes model names inside `{{ ref('`, source names then tables inside
`{{ source('`, and macros with their arguments.

The tests share one user (one session pod); none needs a build: dbt's parse is enough.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.frontend.ide import log_in, open_file, open_project
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(240)

NewContext = Callable[[], Awaitable[BrowserContext]]
CUSTOMERS = "models/marts/customers.sql"
PARSE_MS = 90_000


@pytest.fixture(scope="module")
def lineage_user(make_developer: Callable[..., str]) -> str:
    return make_developer("dbtlineage")


async def open_ide(new_context: NewContext, web: GatewayProcess, username: str) -> Page:
    page = await (await new_context()).new_page()
    await log_in(page, web.url, username)
    await open_project(page)
    return page


def node(page: Page, unique_id: str):  # noqa: ANN201 - a Locator
    return page.locator(f'[data-testid=dbt-lineage-node][data-unique-id="{unique_id}"]')


async def test_lineage_tab_shows_the_parents_and_opens_a_node(
    web: GatewayProcess, new_context: NewContext, lineage_user: str
) -> None:
    page = await open_ide(new_context, web, lineage_user)
    await open_file(page, CUSTOMERS)
    await page.get_by_test_id("dbt-lineage-toggle").click()
    pane = page.get_by_test_id("dbt-lineage")
    await expect(pane).to_have_attribute("data-state", "done", timeout=PARSE_MS)

    focus = page.locator("[data-testid=dbt-lineage-node][data-focus=true]")
    await expect(focus).to_have_attribute("data-unique-id", "model.demo_shop.customers")
    # Its parents, and their parents (two levels up by default).
    for parent in ("model.demo_shop.stg_customers", "seed.demo_shop.country_codes",
                   "model.demo_shop.orders", "model.demo_shop.stg_orders"):  # fmt: skip
        await expect(node(page, parent)).to_be_visible()
    # The parents are drawn left of the model, with an edge from each.
    model_box = await focus.bounding_box()
    parent_box = await node(page, "model.demo_shop.stg_customers").bounding_box()
    assert model_box and parent_box and parent_box["x"] < model_box["x"]
    edge = page.locator(
        '.dbt-lineage-edges path[data-from="model.demo_shop.stg_customers"]'
        '[data-to="model.demo_shop.customers"]'
    )
    await expect(edge).to_have_count(1)
    # The orders source is three levels up (customers ← orders ← stg_orders ← raw.orders):
    # shown only once the graph is wider.
    source = node(page, "source.demo_shop.raw.orders")
    await expect(source).to_have_count(0)
    await page.get_by_test_id("dbt-lineage-wider-upstream").click()
    await expect(source).to_be_visible(timeout=PARSE_MS)
    await expect(page.get_by_test_id("dbt-lineage-depth")).to_have_text("3 + 2")

    # Double-click opens the node's file; the pane follows the new tab.
    await node(page, "model.demo_shop.stg_customers").dblclick()
    await expect(
        page.locator('[data-testid=tab][data-path="models/staging/stg_customers.sql"]')
    ).to_have_attribute("data-active", "true")
    await expect(focus).to_have_attribute(
        "data-unique-id", "model.demo_shop.stg_customers", timeout=PARSE_MS
    )
    await expect(node(page, "model.demo_shop.customers")).to_be_visible()


async def test_editor_completes_refs_sources_and_macros(
    web: GatewayProcess, new_context: NewContext, lineage_user: str
) -> None:
    page = await open_ide(new_context, web, lineage_user)
    await page.get_by_test_id("tree-new-file").click()
    await page.get_by_test_id("dialog-input").fill("analyses/completion_e2e.sql")
    await page.get_by_test_id("dialog-ok").click()
    editor = page.locator('[data-testid=editor][data-path="analyses/completion_e2e.sql"]')
    await expect(editor).to_have_attribute("data-synced", "true")
    await page.locator(".cm-content").click()
    options = page.locator(".cm-tooltip-autocomplete .cm-completionLabel")

    await page.keyboard.type("select * from {{ ref('")
    await expect(options.filter(has_text="stg_customers")).to_have_count(1, timeout=PARSE_MS)
    await expect(options.filter(has_text="country_codes")).to_have_count(1)  # a seed
    await page.keyboard.type("stg_cu")
    await expect(options).to_have_text(["stg_customers"])
    await page.keyboard.press("Enter")
    await expect(page.locator(".cm-content")).to_contain_text("{{ ref('stg_customers')")

    # Sources: the source name, then its tables.
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("{{ source('")
    await expect(options).to_have_text(["raw"])
    await page.keyboard.press("Enter")
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("{{ source('raw', '")
    for table in ("customers", "orders", "payments", "products"):
        await expect(options.filter(has_text=table)).to_have_count(1)

    # Macros of the project, with their arguments.
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("{{ cents_to")
    label = page.locator(".cm-tooltip-autocomplete li", has_text="cents_to_currency")
    await expect(label).to_have_count(1)
    await expect(label.locator(".cm-completionDetail")).to_contain_text("(")

    # Half-typed Jinja would fail dbt's parse of the project for the next test: empty it.
    await page.keyboard.press("Escape")
    await page.keyboard.press("Control+a")
    await page.keyboard.press("Delete")
    await page.keyboard.press("Control+s")
    tab = page.locator('[data-testid=tab][data-path="analyses/completion_e2e.sql"]')
    await expect(tab).to_have_attribute("data-save-state", "saved")


async def test_a_second_tab_follows_the_run_and_the_log_shows_debug_lines(
    web: GatewayProcess, new_context: NewContext, lineage_user: str
) -> None:
    first = await open_ide(new_context, web, lineage_user)
    second = await open_ide(new_context, web, lineage_user)
    command = first.get_by_test_id("dbt-command")
    await command.fill("seed")
    await command.press("Enter")
    await expect(first.get_by_test_id("dbt-panel")).to_have_attribute(
        "data-state", "success", timeout=PARSE_MS
    )
    # The other tab saw the run: its command, its node results, its end.
    panel = second.get_by_test_id("dbt-panel")
    await expect(panel).to_have_attribute("data-state", "success", timeout=30_000)
    await expect(panel).to_have_attribute("data-foreign", "true")
    await expect(second.get_by_test_id("dbt-panel-command")).to_have_text("dbt seed (another tab)")
    seed = second.locator('[data-testid=dbt-node][data-unique-id="seed.demo_shop.country_codes"]')
    await expect(seed).to_have_attribute("data-status", "success")

    # dbt's debug lines arrived too, drawn only when asked for.
    debug = first.locator("[data-testid=dbt-log-line][data-level=debug]")
    await expect(debug).to_have_count(0)
    await first.get_by_test_id("dbt-log-debug").click()
    await expect(debug.first).to_be_visible()
    assert await debug.count() > 0
    await first.get_by_test_id("dbt-log-debug").click()
    await expect(debug).to_have_count(0)
    await expect(first.get_by_test_id("dbt-log-line").first).to_be_visible()

    # Filters by outcome, and Rerun.
    nodes = first.get_by_test_id("dbt-node")
    await first.locator("[data-testid=dbt-filter][data-outcome=error]").click()
    await expect(nodes.locator("visible=true")).to_have_count(0)
    await first.locator("[data-testid=dbt-filter][data-outcome=pass]").click()
    await expect(nodes.locator("visible=true")).to_have_count(1)
    await first.get_by_test_id("dbt-rerun").click()
    await expect(first.get_by_test_id("dbt-panel")).to_have_attribute(
        "data-state", "success", timeout=PARSE_MS
    )
    await expect(second.get_by_test_id("dbt-panel-command")).to_have_text("dbt seed (another tab)")


async def test_command_bar_completes_flag_values_and_selector_methods(
    web: GatewayProcess, new_context: NewContext, lineage_user: str
) -> None:
    page = await open_ide(new_context, web, lineage_user)
    command = page.get_by_test_id("dbt-command")
    await command.fill("ls --resource-type sna")
    await command.press("Tab")
    await expect(command).to_have_value("ls --resource-type snapshot ")
    await command.press_sequentially("-s stg_orders ta")
    await command.press("Tab")
    # A second selector after the first, and a method keeps no space for its value.
    await expect(command).to_have_value(
        "ls --resource-type snapshot -s stg_orders tag:", timeout=60_000
    )
    await command.fill("ls -s stg_orders stg_pay")
    await command.press("Tab")
    await expect(command).to_have_value("ls -s stg_orders stg_payments ")
    # ↑ brings back what was run.
    await command.fill("ls -s stg_orders")
    await command.press("Enter")
    await expect(page.get_by_test_id("dbt-panel-command")).to_have_text("dbt ls -s stg_orders")
    await command.press("ArrowUp")
    await expect(command).to_have_value("ls -s stg_orders")
