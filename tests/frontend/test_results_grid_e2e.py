"""The results grid: sort on the fetched rows (saying so), resize a column, copy cells as
TSV, download CSV and JSON, numbers (DECIMAL too) right-aligned with the warehouse's type."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.frontend.ide import log_in, open_project
from tests.frontend.test_results_e2e import new_file, replace_text
from tests.support.gateway import GatewayProcess

pytestmark = pytest.mark.timeout(120)

NewContext = Callable[[], Awaitable[BrowserContext]]
SQL = (
    "select id as order_id, cast(id * 1.5 as decimal(10,2)) as amount, lower(status) as status "
    "from raw.orders order by id limit 20"
)


@pytest.fixture(scope="module")
def grid_user(make_developer: Callable[..., str]) -> str:
    return make_developer("grid")


async def test_sort_resize_copy_and_export(
    web: GatewayProcess, new_context: NewContext, grid_user: str, tmp_path: Path
) -> None:
    context = await new_context()
    page = await context.new_page()
    await log_in(page, web.url, grid_user)
    await open_project(page)
    await new_file(page, "analyses/grid_e2e.sql")
    await replace_text(page, SQL)
    await page.keyboard.press("Control+Enter")
    await expect(page.get_by_test_id("results")).to_have_attribute(
        "data-state", "done", timeout=60_000
    )
    headers = page.get_by_test_id("results-header-cell")
    await expect(headers).to_have_count(3)
    await expect(headers.nth(1).get_by_test_id("results-col-type")).to_have_text(
        re.compile("decimal", re.I)
    )
    grid = page.get_by_test_id("results-grid")

    def cell(row: int, col: int):  # noqa: ANN202
        return grid.locator(f'[data-testid=results-cell][data-row="{row}"][data-col="{col}"]')

    # Numbers, DECIMAL included, are right-aligned; text is not.
    align = "(el) => getComputedStyle(el).textAlign"
    assert await cell(0, 0).evaluate(align) == "right"
    assert await cell(0, 1).evaluate(align) == "right"
    assert await cell(0, 2).evaluate(align) != "right"

    # Sort by order_id, descending on the second click; it says on what.
    await headers.nth(0).click()
    await expect(headers.nth(0)).to_have_attribute("data-sort", "asc")
    await headers.nth(0).click()
    await expect(headers.nth(0)).to_have_attribute("data-sort", "desc")
    await expect(cell(0, 0)).to_have_text("20")
    await expect(page.get_by_test_id("results-sort-note")).to_have_text(
        "Sorted by order_id on the 20 fetched rows"
    )

    # Resize the first column by dragging its header's edge.
    before = (await headers.nth(0).bounding_box())["width"]  # type: ignore[index]
    handle = headers.nth(0).get_by_test_id("results-col-resize")
    box = await handle.bounding_box()
    assert box
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await page.mouse.move(box["x"] + 80, box["y"] + box["height"] / 2, steps=5)
    await page.mouse.up()
    after = (await headers.nth(0).bounding_box())["width"]  # type: ignore[index]
    assert after > before + 50
    await expect(headers.nth(0)).to_have_attribute("data-sort", "desc")  # not a click

    # A rectangle of cells copied as TSV.
    await cell(0, 0).click()
    await cell(1, 1).click(modifiers=["Shift"])
    await expect(cell(1, 1)).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Control+c")
    texts = [await cell(r, c).inner_text() for r in (0, 1) for c in (0, 1)]
    expected = f"{texts[0]}\t{texts[1]}\n{texts[2]}\t{texts[3]}"
    await expect(grid).to_have_attribute("data-copied", expected)

    # Downloads of the fetched rows, in the shown order.
    async with page.expect_download() as csv_download:
        await page.get_by_test_id("results-csv").click()
    csv_path = tmp_path / "results.csv"
    await (await csv_download.value).save_as(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "order_id,amount,status"
    assert len(lines) == 21 and lines[1].startswith("20,")
    async with page.expect_download() as json_download:
        await page.get_by_test_id("results-json").click()
    json_path = tmp_path / "results.json"
    await (await json_download.value).save_as(json_path)
    data = json.loads(json_path.read_text())
    assert (
        len(data) == 20
        and data[0]["order_id"] == 20
        and set(data[0])
        == {
            "order_id",
            "amount",
            "status",
        }
    )
