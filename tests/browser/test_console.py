"""The reviewer console in a real browser: sign-in, policy, why, Manage Users, CSRF (issue: console)."""

import pytest

from tests.support.browser import shot, sign_in

pytestmark = pytest.mark.slow


def test_pages_redirect_to_sign_in_without_a_key(page):
    """Every console page redirects to sign-in without a signed-in key."""
    for path in ("/console/policy", "/console/why", "/console/links"):
        page.goto(path)
        assert "/console/signin" in page.url
    shot(page, "signin")


def test_a_key_without_audit_scope_is_refused(page, live):
    """Only an audit-scoped key signs in."""
    sign_in(page, "not-a-key")
    assert "/console/signin" in page.url
    assert page.get_by_role("status").inner_text().startswith("That key is unknown")


def test_matrix_and_why(page):
    """The live matrix with its version; "why" shows facts, group, rule and reason."""
    sign_in(page)
    assert page.get_by_role("heading", name="Policy").is_visible()
    assert page.locator("tr", has_text="port.edit").first.inner_text().split() == [
        "port.edit", "yes", "yes", "yes"]
    shot(page, "policy")
    page.goto("/console/why?user=rita@acme.example&action=port.create&account=umbrella")
    assert page.locator("h2").first.inner_text() == "Decision: denied"
    body = page.locator("main").inner_text()
    assert "support" in body and "policies/model.conf" in body and "owner/read_only/support/none" in body
    shot(page, "why")


def test_manage_users_link_change_revoke(page):
    """Link a user, change the group, revoke: the panel reflects each step (R4.2, R4.6)."""
    sign_in(page)
    page.goto("/console/links?customer=hooli&actor=ada@acme.example")
    assert page.locator("tr", has_text="lee@acme.example").count() == 0
    page.get_by_label("User (only non-admin users of the partner)").select_option("lee@acme.example")
    page.get_by_role("button", name="Link user").click()
    row = page.locator("tr", has_text="lee@acme.example")
    assert row.locator("select").input_value() == "support"
    row.locator("select").select_option("regular")
    row.get_by_role("button", name="Change").click()
    assert page.locator("tr", has_text="lee@acme.example").locator("select").input_value() == "regular"
    shot(page, "manage-users")
    page.get_by_role("button", name="Revoke lee@acme.example").click()
    assert page.locator("tr", has_text="lee@acme.example").count() == 0
    assert page.get_by_label("User (only non-admin users of the partner)").locator(
        "option", has_text="lee@acme.example").count() == 1


def test_a_non_admin_sees_the_refusal(page):
    """Previewed as a non-admin partner user, the panel shows the policy's refusal (R4.5), unrecorded."""
    sign_in(page)
    page.goto("/console/links?customer=initech&actor=reggie@acme.example")
    assert page.get_by_role("alert").inner_text().startswith("Refused:")


def test_forged_csrf_is_refused(page):
    """A POST with a forged or missing CSRF token is refused and changes nothing."""
    sign_in(page)
    form = {"customer": "initech", "actor": "ada@acme.example", "email": "sam@acme.example"}
    assert page.request.post("/console/links/revoke", form={**form, "csrf_token": "forged"}).status == 400
    assert page.request.post("/console/links/revoke", form=form).status == 400
    assert page.request.post("/console/signout", form={}).status == 400
    page.goto("/console/links?customer=initech&actor=ada@acme.example")
    assert page.locator("tr", has_text="sam@acme.example").count() == 1


def test_activity_shows_link_changes_in_the_partners_log(page):
    """R7.2, R7.5: linking, changing and revoking appear as grant.manage entries in acme's log under
    the console key's name, never the previewed admin's; the log writer's verification shows."""
    sign_in(page)
    page.goto("/console/links?customer=umbrella&actor=ada@acme.example")
    page.get_by_label("User (only non-admin users of the partner)").select_option("lee@acme.example")
    page.get_by_role("button", name="Link user").click()
    row = page.locator("tr", has_text="lee@acme.example")
    row.locator("select").select_option("read_only")
    row.get_by_role("button", name="Change").click()
    page.get_by_role("button", name="Revoke lee@acme.example").click()
    page.goto("/console/activity?account=acme&action=grant.manage&user=console key bootstrap")
    targets = [t.inner_text() for t in page.locator("#entries tbody tr td:nth-child(4)").all()]
    assert targets.count("link umbrella/lee@acme.example") == 3  # link, change, revoke, as the key (R7.5)
    page.goto("/console/activity?account=acme&action=grant.manage&user=ada@acme.example")
    assert "no entries" in page.locator("#entries tbody").inner_text()  # never as the admin previewed
    page.goto("/console/activity?account=umbrella&action=grant.manage")
    assert "no entries" in page.locator("#entries tbody").inner_text()
    page.goto("/console/activity?account=acme")  # the log writer's last pass, not run by the request
    assert "intact" in page.locator("#verification").inner_text()


def _cents(shown: str) -> int:
    """A money figure as the page shows it ("$1,220.00") in cents."""
    assert shown.startswith("$"), shown
    return round(float(shown[1:].replace(",", "")) * 100)


def test_see_as_masks_figures_for_support(page, live):
    """R5.8: rita sees Umbrella (support) by name with masked figures, Initech (regular) with figures."""
    sign_in(page)
    page.goto("/console/customers?partner=acme&viewer=rita@acme.example")
    before = _cents(page.locator("tr", has_text="Initech").locator("td").nth(1).inner_text())
    for service, customer in (("svc-i1", "initech"), ("svc-u1", "umbrella")):
        status, body = live.call("POST", f"/v1/customers/{customer}/services", {
            "user": "ada@acme.example", "service_id": service, "kind": "port",
            "monthly_price_cents": 12000, "billing_starts_at": "2026-01-01T00:00:00Z"})
        assert status == 201, body
    page.goto("/console/customers?partner=acme&viewer=rita@acme.example")
    regular = page.locator("tr", has_text="Initech")
    support = page.locator("tr", has_text="Umbrella")
    assert _cents(regular.locator("td").nth(1).inner_text()) == before + 12000  # the demo's own services too
    assert support.locator("td").nth(0).inner_text() == "support"
    masked = support.locator("td.masked")
    assert masked.count() == 6
    assert masked.first.get_attribute("title") == "masked: support lacks billing.view"
    assert page.locator("tr", has_text="Hooli").count() == 0
    shot(page, "see-as")
    page.get_by_label("Hide inactive customers").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert page.locator("tr", has_text="Umbrella").count() == 1  # masked rows are never hidden (R5.10)
