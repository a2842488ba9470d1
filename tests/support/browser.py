"""The browser tests' helpers: signing in through the console's form, and README screenshots."""

import os
from pathlib import Path

from tests.support.server import KEY

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WRITE_SHOTS_ENV = "AUTHZ_WRITE_SCREENSHOTS"  # set by `make screenshots` only


def sign_in(page, key: str = KEY) -> None:
    """Sign in through the form, as a person would."""
    page.goto("/console/signin")
    page.get_by_label("API key").fill(key)
    with page.expect_navigation():  # the answer's page, loaded, before the caller reads it
        page.get_by_role("button", name="Sign in").click()


def shot(page, name: str) -> None:
    """Take a screenshot for the README; written to docs/screenshots/ only when
    AUTHZ_WRITE_SCREENSHOTS=1 (`make screenshots`), so a test run leaves the committed ones alone."""
    if os.environ.get(WRITE_SHOTS_ENV) != "1":
        page.screenshot(full_page=False)  # still rendered, kept in memory only
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (axe-core ships inside
    the axe-playwright-python package: nothing is fetched), one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in found if v["impact"] in ("serious", "critical")]
