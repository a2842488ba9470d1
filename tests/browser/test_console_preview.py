"""The console's "Preview a policy change" in a real browser (R9.7): uploaded files in place of the
policy in force give the compare verdict, the changed cells, the live grants gained and lost and
the recorded decisions that would have gone the other way; a change the service would refuse is
refused with its invariant; a preview records nothing (R7.5)."""

import pytest

from tests.support.browser import shot, sign_in
from tests.support.policy_scratch import policy_files

pytestmark = pytest.mark.slow

DOWNLOAD, VIEW_ONLY = "p, read_only, *, invoice: view download, allow", "p, read_only, *, invoice: view, allow"


def recorded(live) -> int:
    status, body = live.call("GET", "/v1/decisions?limit=500")
    assert status == 200, body
    return len(body["items"])


def upload(page, name: str, text: str, since: str = "30d") -> None:
    """Choose one file, the replay window, and submit; wait for the answer page."""
    page.get_by_label("Changed policy files").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}])
    page.get_by_label("Replay recorded decisions from the last").select_option(since)
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()


def open_preview(page) -> None:
    sign_in(page)
    nav = page.get_by_role("navigation", name="Console")
    with page.expect_navigation():
        nav.get_by_role("link", name="Preview a policy change").click()
    assert page.get_by_role("heading", name="Preview a policy change").is_visible()


def test_a_change_shows_verdict_cells_grants_and_replay(page, live):
    """read_only loses invoice.download: less permissive, the two cells (partner and customer
    accounts), iris (read_only at Initech) among the grants lost, and her recorded download
    among the decisions that would have gone the other way, with its id."""
    status, body = live.call("POST", "/v1/authorize", {"user": "iris@initech.example",
                                                       "action": "invoice.download", "account": "initech"})
    assert status == 200 and body["allowed"] is True
    before = recorded(live)
    open_preview(page)
    upload(page, "account.csv", policy_files()["account.csv"].replace(DOWNLOAD, VIEW_ONLY))
    assert page.locator("#verdict").inner_text() == "Verdict: less permissive"
    shot(page, "preview")
    rows = [tuple(c.inner_text().strip() for c in r.locator("td").all()[:4])
            for r in page.locator("#cells tbody tr").all()]
    assert rows == [("customer", "read_only", "invoice.download", "lost"),
                    ("partner", "read_only", "invoice.download", "lost")]
    assert page.locator("#impact").inner_text().startswith("0 gained, ")
    assert page.get_by_role("row", name="− iris@initech.example initech invoice.download").count() == 1
    replay = page.locator("#replay").inner_text()
    assert " would have gone the other way" in replay and not replay.split("replayed: ")[1].startswith("0 ")
    assert page.get_by_role("row").filter(has_text=body["decision_id"]).count() == 1
    assert recorded(live) == before  # R7.5: a preview is nobody's activity


def test_a_change_the_service_would_refuse_is_refused_with_its_invariant(page, live):
    """R9.6: support may view invoices breaks R3's invariant: refused, naming it; a file that is
    not a policy file is refused before anything is read."""
    open_preview(page)
    upload(page, "account.csv", policy_files()["account.csv"] + "p, support, *, invoice: view, allow\n")
    assert page.locator("#verdict").inner_text() == "Verdict: refused"
    assert "invariant" in page.locator("main ul").inner_text()
    upload(page, "../model.conf", "[request_definition]\n", since="")
    assert "is not a policy file name" in page.get_by_role("alert").inner_text()
