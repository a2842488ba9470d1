"""The console reads as a product (issue 21, decision 036): the seed's column names and formats on
the Customers page, humanized times with the exact UTC, masked cells that name the missing action,
and a layout without horizontal overflow at 360 px."""

import re

import pytest

from tests.support.browser import sign_in

pytestmark = pytest.mark.slow

SEED_COLUMNS = ["Customer", "Group", "MRR (USD)", "Ports", "VCs", "Cloud", "Last Activity", "Last Order"]
HUMAN = re.compile(r"^(just now|\d+ (min|h|d|mo|y) ago|in \d+ (min|h|d|mo|y))$")


def test_customers_columns_money_times_and_masks(page):
    """R5.1's columns by the seed's names; MRR as dollars; times humanized with the exact UTC in
    datetime and title; a masked cell (R5.8) says which action the viewer's group lacks."""
    sign_in(page)
    page.goto("/console/customers?partner=acme&viewer=rita@acme.example")
    assert [h.inner_text().strip() for h in page.locator("#customers thead th").all()] == SEED_COLUMNS
    initech = page.locator("#customers tr", has_text="Initech")
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d", initech.locator("td").nth(1).inner_text())
    times = initech.locator("time")
    assert times.count() >= 1
    for stamp in times.all():
        assert HUMAN.match(stamp.inner_text()), stamp.inner_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp.get_attribute("datetime"))
        assert stamp.get_attribute("title").endswith(" UTC")
    umbrella = page.locator("#customers tr", has_text="Umbrella")
    cells = [c.inner_text().strip() for c in umbrella.locator("td.masked").all()]
    assert cells == ["— needs billing.view"] + ["— needs account.view_summary"] * 5


@pytest.mark.parametrize("path", ["/console/policy", "/console/customers?partner=acme&viewer=rita@acme.example",
                                  "/console/links?customer=initech", "/console/access?customer=initech",
                                  "/console/activity", "/console/why?user=rita@acme.example&action=port.create&account=umbrella",
                                  "/console/access/user?email=rita@acme.example", "/console/keys", "/console/invites",
                                  "/console/outbox"])
def test_no_horizontal_overflow_at_360_px(browser, live, path):
    """A phone-sized window: the page itself never scrolls sideways (wide tables scroll inside)."""
    context = browser.new_context(base_url=f"http://127.0.0.1:{live.port}", viewport={"width": 360, "height": 740})
    try:
        narrow = context.new_page()
        sign_in(narrow)
        narrow.goto(path)
        width = narrow.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide"
    finally:
        context.close()
