"""The console's queue of requests for access (R10.2) in a real browser: a partner's pending
requests, approved or denied by the console key, the link made, the queue emptied."""

import pytest

from tests.support.browser import sign_in

pytestmark = pytest.mark.slow


def ask(live, user: str, customer: str) -> str:
    status, body = live.call("POST", f"/v1/customers/{customer}/access-requests",
                             {"user": user, "reason": "incident <7>", "duration_hours": 6})
    assert status == 201, body
    return body["request_id"]


def statuses(live) -> dict:
    status, body = live.call("GET", "/v1/partners/acme/access-requests?user=ada@acme.example&limit=500")
    assert status == 200, body
    return {i["request_id"]: i["status"] for i in body["items"]}


def test_a_partner_admins_queue_approves_and_denies(page, live):
    """R10.2: the queue lists each pending request with its reason and wait; Approve makes the
    expiring link (R10.1), Deny with a reason closes it; both leave the queue."""
    approved, denied = ask(live, "reggie@acme.example", "hooli"), ask(live, "rita@acme.example", "umbrella")
    sign_in(page)
    page.get_by_role("navigation", name="Console").wait_for()
    with page.expect_navigation():
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Requests").click()
    rows = page.get_by_role("table", name="Pending requests").locator("tbody tr")
    assert rows.count() == 2
    assert "incident <7>" in rows.first.inner_text() and "left" in rows.first.inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Approve reggie@acme.example for hooli").click()
    assert "approved" in page.locator(".flash").first.inner_text()
    page.get_by_label("reason").fill("use the runbook")
    with page.expect_navigation():
        page.get_by_role("button", name="Deny rita@acme.example for umbrella").click()
    assert "denied" in page.locator(".flash").first.inner_text()
    assert "no pending request" in page.get_by_role("table", name="Pending requests").inner_text()
    assert {approved: "approved", denied: "denied"}.items() <= statuses(live).items()
    status, links = live.call("GET", "/v1/customers/hooli/links?user=ada@acme.example")
    reggie = [i for i in links["items"] if i["email"] == "reggie@acme.example"]
    assert status == 200 and reggie and reggie[0]["expires_at"] is not None
