"""Browser fixtures: headless Chromium (the machine's, never a downloaded one) driving the
built frontend that the test gateway serves from ``frontend/dist``."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from ide_server.gateway.app import FRONTEND_DIST
from tests.support.client import Api
from tests.support.gateway import PASSWORD, GatewayProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def frontend_dist() -> None:
    if not (FRONTEND_DIST / "index.html").is_file():
        pytest.fail(
            f"{FRONTEND_DIST}/index.html is missing: the browser tests need the built frontend. "
            "Run `npm --prefix frontend ci && npm --prefix frontend run build` first.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def web(frontend_dist: None, gateway: GatewayProcess) -> GatewayProcess:
    """The gateway, checked to serve the app (it mounts dist only if it existed at start)."""
    response = httpx.get(f"{gateway.url}/", timeout=10)
    if response.status_code != 200 or '<div id="app"' not in response.text:
        pytest.fail(
            "the gateway does not serve the frontend: it was started before frontend/dist "
            "was built. Build the frontend before running the tests.",
            pytrace=False,
        )
    return gateway


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: ./scripts/test installs Debian's "
            "`chromium` package when it is missing (or: apt-get install chromium).",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def new_context(browser: Browser) -> AsyncIterator[Callable[[], Awaitable[BrowserContext]]]:
    """Opens browser contexts (separate cookie jars) and closes them after the test."""
    contexts: list[BrowserContext] = []

    async def make() -> BrowserContext:
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture(scope="module")
def make_developer(web: GatewayProcess) -> Iterator[Callable[..., str]]:
    """Creates a user who is a developer (or ``role``) on the demo project; returns the name.

    Each test module gets its own user, hence its own session pod and volume, so that its
    edits, branches and commits cannot meet those of other tests. Their pods are stopped
    when the module is done.
    """
    created: list[str] = []

    def make(prefix: str, role: str = "developer") -> str:
        username = f"{prefix}{secrets.token_hex(3)}"
        web.cli(
            "user", "add", username, "--password", PASSWORD, "--email", f"{username}@example.com"
        )
        web.cli("member", "add", "demo", username, role)
        created.append(username)
        return username

    yield make
    for username in created:
        api = Api(web.url)
        if api.login(username, PASSWORD).status_code != 200:
            continue
        for session in api.http.get("/api/sessions").json():
            api.http.delete(f"/api/sessions/{session['id']}")
