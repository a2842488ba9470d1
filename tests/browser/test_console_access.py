"""The console's "Who has access" pages in a real browser (R10.3): per customer and per user, each
row as the API answers it, the two pages agreeing, and reading them recorded as nobody's (R7.5)."""

import urllib.parse

import pytest

from tests.support.browser import shot, sign_in

pytestmark = pytest.mark.slow

HOW = {"home": "home account", "partner_admin": "partner admin", "link": "link"}
READER = {"acme": "ada@acme.example", "globex": "gina@globex.example"}
CUSTOMERS = {"initech": "acme", "umbrella": "acme", "hooli": "acme", "soylent": "globex"}
INITECH = [("ada@acme.example", "admin", "partner admin", "no end"), ("ian@initech.example", "admin", "home account", "no end"),
           ("ike@initech.example", "support", "home account", "no end"),
           ("iris@initech.example", "read_only", "home account", "no end"),
           ("ivy@initech.example", "regular", "home account", "no end"),
           ("pat@acme.example", "admin", "partner admin", "no end"), ("rita@acme.example", "regular", "link", "no end"),
           ("sam@acme.example", "support", "link", "no end")]


def signed_in(page) -> None:
    """Sign in, and wait for the console's first page."""
    sign_in(page)
    page.get_by_role("navigation", name="Console").wait_for()


def follow(page, locator) -> None:
    """Click something that loads a page, and wait for that page."""
    with page.expect_navigation():
        locator.click()


def table(page) -> list[tuple]:
    """The rows of the page's table, cell by cell."""
    return [tuple(cell.inner_text().strip() for cell in row.locator("td").all())
            for row in page.locator("tbody tr").all()]


def from_api(live, customer: str, action: str = "") -> list[tuple]:
    """The rows GET /v1/customers/{id}/access gives, as the page should show them."""
    query = urllib.parse.urlencode({"user": READER[CUSTOMERS[customer]], "limit": 500,
                                    **({"action": action} if action else {})})
    status, body = live.call("GET", f"/v1/customers/{customer}/access?{query}")
    assert status == 200, body
    return [(i["email"], i["group"], HOW[i["via"]], i["expires_at"] or "no end") for i in body["items"]]


def recorded(live) -> int:
    status, body = live.call("GET", "/v1/decisions?limit=500")
    assert status == 200, body
    return len(body["items"])


def test_per_customer_rows_are_the_apis(page, live):
    """From the navigation; each customer chosen in the form shows every holder, the group, how and
    until when, as GET /v1/customers/{id}/access does; an action narrows it to those it allows."""
    signed_in(page)
    follow(page, page.get_by_role("navigation", name="Console").get_by_role("link", name="Who has access"))
    assert page.get_by_role("heading", name="Who has access").is_visible()
    for customer in CUSTOMERS:
        page.get_by_label("Customer").select_option(customer)
        page.get_by_label("Allowed to (optional)").select_option("")
        follow(page, page.get_by_role("button", name="Show"))
        assert table(page) == from_api(live, customer), customer
    page.get_by_label("Customer").select_option("initech")
    follow(page, page.get_by_role("button", name="Show"))
    assert table(page) == INITECH
    page.get_by_label("Allowed to (optional)").select_option("port.create")
    follow(page, page.get_by_role("button", name="Show"))
    assert [r[0] for r in table(page)] == ["ada@acme.example", "ian@initech.example", "ivy@initech.example",
                                           "pat@acme.example", "rita@acme.example"]
    assert table(page) == from_api(live, "initech", "port.create")
    shot(page, "who-has-access")


def test_per_user_rows_and_the_two_pages_agree(page, live):
    """A user's page (reached from a customer's row) lists every account they act on, the kind,
    group and how; each customer there lists the user with the same group and how, and back."""
    signed_in(page)
    page.goto("/console/access?customer=initech")
    follow(page, page.get_by_role("link", name="rita@acme.example"))
    assert page.get_by_role("heading", name="Where a user acts").is_visible()
    assert table(page) == [("Acme Networks (acme)", "partner", "read_only", "home account"),
                           ("Initech (initech)", "customer", "regular", "link"),
                           ("Umbrella Corp (umbrella)", "customer", "support", "link")]
    holders = {c: {r[0]: r[1:3] for r in from_api(live, c)} for c in CUSTOMERS}
    for email in sorted({e for rows in holders.values() for e in rows}):
        page.get_by_label("User").fill(email)
        follow(page, page.get_by_role("button", name="Show"))
        shown = {r[0].rsplit("(", 1)[1].rstrip(")"): (r[2], r[3]) for r in table(page) if r[1] == "customer"}
        assert shown == {c: rows[email] for c, rows in holders.items() if email in rows}, email
    page.goto("/console/access/user?email=pat@acme.example")  # R4.9: the old link is not what pat acts with
    assert ("Hooli (hooli)", "customer", "admin", "partner admin") in table(page)
    follow(page, page.get_by_role("link", name="Hooli (hooli)"))
    assert "customer=hooli" in page.url and table(page) == from_api(live, "hooli")


def test_an_unknown_user_acts_nowhere_and_reading_records_nothing(page, live):
    """An unknown user gets the empty row, not an error; previews are nobody's activity (R7.5)."""
    signed_in(page)
    before = recorded(live)
    page.goto("/console/access/user?email=nobody@acme.example")
    assert table(page) == [("no account: unknown user, or one who acts nowhere",)]
    page.goto("/console/access?customer=soylent&action=billing.view")
    assert [r[0] for r in table(page)] == ["gina@globex.example", "gus@globex.example", "sol@soylent.example"]
    assert recorded(live) == before
