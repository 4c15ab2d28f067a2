"""Single sign-on in headless Chromium: the login page's "Sign in with <provider>" button,
the real provider's login and consent pages, and back to the projects the groups grant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from playwright.async_api import BrowserContext, expect

from tests.support.gateway import GatewayProcess
from tests.support.oidc_provider import LoopbackProvider, new_account, sso_gateway

pytestmark = pytest.mark.timeout(180)

NewContext = Callable[[], Awaitable[BrowserContext]]


@pytest.fixture(scope="module")
def sso_web(
    frontend_dist: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, LoopbackProvider]]:
    with sso_gateway(tmp_path_factory.mktemp("sso-web"), demo="true") as both:
        yield both


async def test_sign_in_through_the_provider_pages(
    sso_web: tuple[GatewayProcess, LoopbackProvider], new_context: NewContext
) -> None:
    gw, provider = sso_web
    sub = new_account(provider, name="Ada Lovelace")
    page = await (await new_context()).new_page()
    await page.goto(f"{gw.url}/")
    button = page.get_by_test_id("login-sso-oidc")
    await expect(button).to_have_text("Sign in with Example SSO")
    # Local accounts still log in in `both` mode.
    await expect(page.get_by_test_id("login-username")).to_be_visible()
    await button.click()
    # The provider's own development pages: sign in, then consent.
    await page.wait_for_url(f"{provider.issuer}/interaction/**")
    await page.locator("input[name=login]").fill(sub)
    await page.locator("input[name=password]").fill("anything")
    await page.locator("button[type=submit]").click()
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{gw.url}/**")
    rows = page.get_by_test_id("project-row")
    await expect(rows).to_have_count(1)
    await expect(rows.get_by_test_id("project-name")).to_have_text("demo")
    await expect(rows.get_by_test_id("project-role")).to_have_text("Developer")
    await expect(page.get_by_text("Ada Lovelace")).to_be_visible()


async def test_a_refused_sign_in_comes_back_to_the_login_page_saying_why(
    sso_web: tuple[GatewayProcess, LoopbackProvider], new_context: NewContext
) -> None:
    gw, provider = sso_web
    sub = new_account(provider, email_verified=False)
    page = await (await new_context()).new_page()
    await page.goto(f"{gw.url}/")
    await page.get_by_test_id("login-sso-oidc").click()
    await page.wait_for_url(f"{provider.issuer}/interaction/**")
    await page.locator("input[name=login]").fill(sub)
    await page.locator("input[name=password]").fill("anything")
    await page.locator("button[type=submit]").click()
    await page.locator("button[type=submit]").click()
    await page.wait_for_url(f"{gw.url}/?sso_error=sso_refused**")
    await expect(page.get_by_test_id("login-error")).to_contain_text("may not sign in here")
    await expect(page.get_by_test_id("login-sso-oidc")).to_be_visible()
