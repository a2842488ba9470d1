"""Every console page in Chromium with the demo data (issue 21, decision 036): Keys (a new key shown
once, revoked, never stronger than the console key), Invites, Mail outbox, the policy's invariants,
Why by decision_id; and axe-core on every page and form: no serious or critical violation."""

import re
import urllib.parse

import pytest

from tests.support.browser import serious_violations, shot, sign_in

pytestmark = pytest.mark.slow


def _rows(page, table: str) -> list[list[str]]:
    return [[c.inner_text().strip() for c in r.locator("th, td").all()] for r in page.locator(f"#{table} tbody tr").all()]


def test_keys_create_shows_once_then_revoke(page, live):
    """A key made with audit and 30 days is shown once, signs in, is listed live without its value,
    then revoked; an audit-only console key cannot make one (R7.5: changes need manage)."""
    sign_in(page)
    page.goto("/console/keys")
    page.get_by_label("Name").fill("reviewer-2")
    page.get_by_label("audit").check()
    page.get_by_label("Expires in").select_option("30")
    with page.expect_navigation():
        page.get_by_role("button", name="Create key").click()
    made = page.get_by_label("the new key").inner_text().strip()
    assert re.fullmatch(r"azk_[A-Za-z0-9_-]{40,}", made)
    row = next(r for r in _rows(page, "keys") if r[0] == "reviewer-2")
    assert row[1:2] == ["audit"] and row[3] == "in 29 d" and row[4] == "live"
    shot(page, "keys")
    page.goto("/console/keys")
    assert made not in page.content()  # shown once only
    other = page.context.browser.new_context(base_url=f"http://127.0.0.1:{live.port}")
    try:
        second = other.new_page()
        sign_in(second, made)
        assert second.get_by_role("navigation", name="Console").is_visible()
        second.goto("/console/keys")
        assert second.get_by_role("button", name="Create key").count() == 0
        token = re.search(r'name="csrf_token" value="([^"]+)"', second.content()).group(1)
        refused = second.request.post("/console/keys/create", form={
            "csrf_token": token, "name": "mine", "scope": "audit", "expires_in_days": "1"})
        assert refused.status == 403 and "lacks the manage scope" in refused.text()
    finally:
        other.close()
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke reviewer-2").click()
    assert next(r for r in _rows(page, "keys") if r[0] == "reviewer-2")[4].startswith("revoked")


def test_invites_and_outbox_show_each_status(page, live):
    """An invite made through the API is listed pending; a port ordered for a customer queues mail
    to the partner's admin contact, listed as pending (no mail server is configured here)."""
    status, body = live.call("POST", "/v1/partners/acme/invites", {"user": "ada@acme.example", "email": "new@wayne.example"})
    assert status == 201, body
    assert live.call("PUT", "/v1/partners/acme/contacts/ops@acme.example", {"name": "Ops", "type": "admin"})[0] in (200, 201)
    status, body = live.call("POST", "/v1/customers/hooli/services", {
        "user": "ada@acme.example", "service_id": "svc-mail-1", "kind": "port", "monthly_price_cents": 100})
    assert status == 201, body
    sign_in(page)
    page.goto("/console/invites?partner=acme")
    assert _rows(page, "invites")[0][:3] == ["new@wayne.example", "pending", "ada@acme.example"]
    shot(page, "invites")
    page.goto("/console/outbox?partner=acme")
    mail = _rows(page, "outbox")
    assert [r[1] for r in mail] == ["ops@acme.example"] and mail[0][3] == "pending" and "svc-mail-1" in mail[0][2]
    page.get_by_label("Status").select_option("sent")
    with page.expect_navigation():  # read the rows of the new page, not the old one
        page.get_by_role("button", name="Show").click()
    assert _rows(page, "outbox") == [["no mail"]]
    page.get_by_label("Status").select_option("")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    shot(page, "outbox")


def test_policy_invariants_and_why_by_decision_id(page, live):
    """The invariants are listed as holding; a 403's decision_id is explained from its entry; a
    malformed or unknown id says so."""
    sign_in(page)
    assert next(r for r in _rows(page, "invariants") if r[0] == "support-sees-no-money")[:2] == ["support-sees-no-money", "R3"]
    assert {r[3] for r in _rows(page, "invariants")} == {"holds"}
    status, body = live.call("POST", "/v1/authorize", {"user": "sam@acme.example", "action": "billing.view", "account": "initech"})
    assert status == 200 and body["allowed"] is False
    page.goto("/console/why")
    page.get_by_label("Decision id").fill(body["decision_id"])
    with page.expect_navigation():
        page.get_by_role("button", name="Explain this decision").click()
    assert page.locator("#verdict").inner_text() == "Recorded decision: denied"
    recorded = dict((r[0], r[1]) for r in _rows(page, "recorded") if len(r) == 2) or {
        row.locator("th").inner_text(): row.locator("td").inner_text() for row in page.locator("#recorded tr").all()}
    assert recorded["user"] == "sam@acme.example" and recorded["action"] == "billing.view"
    assert recorded["group held"] == "support" and recorded["rule"].startswith(body["rule"])
    assert recorded["reason"] == body["reason"]
    shot(page, "why-decision")
    page.goto("/console/why?decision_id=nope!")
    assert "is not a decision id" in page.get_by_role("alert").inner_text()
    page.goto("/console/why?decision_id=0123456789abcdef0123456789abcdef")
    assert "No recorded decision" in page.get_by_role("alert").inner_text()


PAGES = ["/console/signin", "/console/policy", "/console/why?user=rita@acme.example&action=port.create&account=umbrella",
         "/console/customers?partner=acme&viewer=rita@acme.example", "/console/links?customer=initech&actor=ada@acme.example",
         "/console/access?customer=initech", "/console/access/user?email=rita@acme.example", "/console/activity",
         "/console/activity?account=acme&allowed=false&unit=hour", "/console/keys", "/console/invites", "/console/outbox",
         "/console/why?decision_id=nope", "/console/preview", "/console/log", "/console/requests", "/docs"]


def test_axe_finds_nothing_serious_on_any_page(browser, live):
    """axe-core on every page and form, signed in (the sign-in page before): no serious or critical
    violation. Each page is also checked for what it must show, so an error page cannot pass."""
    context = browser.new_context(base_url=f"http://127.0.0.1:{live.port}", bypass_csp=True)
    try:
        page = context.new_page()
        found = {}
        sign_in(page)  # every page the navigation links to is among those checked
        linked = {urllib.parse.urlsplit(a.get_attribute("href")).path
                  for a in page.get_by_role("navigation", name="Console").get_by_role("link").all()}
        assert linked and linked <= {urllib.parse.urlsplit(p).path for p in PAGES}, linked
        context.clear_cookies()
        page.goto("/console/signin")
        for path in PAGES:
            if path != "/console/signin" and "/console/signin" in page.url:
                sign_in(page)
            page.goto(path)
            if path == "/docs":
                page.locator(".opblock").first.wait_for()
            assert page.locator("h1").first.is_visible(), path
            assert "<" not in page.title(), (path, page.title())  # a title is text, never markup
            found[path] = serious_violations(page)
        assert {p: v for p, v in found.items() if v} == {}
    finally:
        context.close()
