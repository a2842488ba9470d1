"""Playwright driving Debian's chromium (/usr/bin/chromium) against a live `authz serve`."""

import os
from pathlib import Path

import pytest

from tests.system.server import KEY, Server

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WRITE_SHOTS_ENV = "AUTHZ_WRITE_SCREENSHOTS"  # set by `make screenshots` only


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The demo data served by one gunicorn worker."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: `apt-get install -y chromium` to run the browser tests")
    server = Server(tmp_path_factory.mktemp("console"), workers=1)
    server.load_demo()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(live):
    """Chromium, headless, no sandbox, no background networking."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live):
    """A fresh browser context (no cookies) with the console's base URL."""
    context = browser.new_context(base_url=f"http://127.0.0.1:{live.port}",
                                  viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def sign_in(page, key: str = KEY) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/console/signin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def shot(page, name: str) -> None:
    """Take a screenshot for the README; written to docs/screenshots/ only when
    AUTHZ_WRITE_SCREENSHOTS=1 (`make screenshots`), so a test run leaves the committed ones alone."""
    if os.environ.get(WRITE_SHOTS_ENV) != "1":
        page.screenshot(full_page=False)  # still rendered, kept in memory only
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
