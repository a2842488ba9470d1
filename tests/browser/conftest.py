"""Playwright driving Debian's chromium (/usr/bin/chromium) against a live `authz serve`."""

import os

import pytest

from tests.support.server import Server

CHROMIUM = "/usr/bin/chromium"


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
