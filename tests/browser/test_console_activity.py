"""The console's Activity in Chromium (issue 21, decision 036): the chart's and the ranking's numbers
are the log's for a known mix of decisions; the search narrows by user, outcome, text and dates;
the CSV and NDJSON exports of a filtered view are what GET /v1/decisions answers for that filter."""

import csv
import io
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.browser import shot, sign_in

pytestmark = pytest.mark.slow

MIX = "mix@acme.example"
ALLOWED = {"port.view": 4, "customer.list": 1}  # R3: support holds these on its home account
DENIED = {"port.create": 3, "billing.view": 2}  # R3: support never creates nor sees money
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = "=HYPERLINK(\"http://evil.example\",\"x\")"  # a target a spreadsheet would run


@pytest.fixture(scope="module")
def mix(live):
    """A support user of acme with the known mix: 5 allowed and 5 denied decisions now, and three
    logins yesterday (two at 10:xx, one at 13:xx UTC); returns yesterday's date."""
    status, body = live.call("PUT", f"/v1/partners/acme/users/{MIX}", {"group": "support"})
    assert status in (200, 201), body
    for action, times in {**ALLOWED, **DENIED}.items():
        for _ in range(times):
            status, body = live.call("POST", "/v1/authorize", {"user": MIX, "action": action, "account": "acme",
                                                                "resource": {"type": "port", "id": HOSTILE}})
            assert status == 200 and body["allowed"] == (action in ALLOWED), body
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    for at in ("10:05", "10:40", "13:20"):
        status, body = live.call("POST", "/v1/accounts/acme/logins", {"user": MIX, "at": f"{day}T{at}:00Z"})
        assert status == 204, body
    return day


def _buckets(page) -> dict[str, tuple[int, int]]:
    """The chart's bars: start of the bucket -> (allowed, denied), read from the SVG."""
    return {g.get_attribute("data-at"): (int(g.get_attribute("data-allowed")), int(g.get_attribute("data-denied")))
            for g in page.locator("#chart svg g.bucket").all()}


def test_the_chart_and_the_ranking_are_the_logs(page, mix):
    """Per hour: yesterday 10:00 has 2 logins, 13:00 one, the current hour 5 allowed and 5 denied,
    every other hour between is zero; most denied: port.create 3, billing.view 2; the user first."""
    sign_in(page)
    page.goto(f"/console/activity?user={MIX}&unit=hour")
    bars = _buckets(page)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    expected = {f"{mix}T10:00:00Z": (2, 0), f"{mix}T13:00:00Z": (1, 0), now.isoformat() + "Z": (5, 5)}
    assert {at: n for at, n in bars.items() if n != (0, 0)} == expected
    assert min(bars) == f"{mix}T10:00:00Z" and max(bars) == now.isoformat() + "Z"
    assert len(bars) == int((now - datetime.fromisoformat(f"{mix}T10:00:00")).total_seconds() // 3600) + 1
    figure = page.locator("#chart")
    assert (figure.get_attribute("data-allowed"), figure.get_attribute("data-denied")) == ("8", "5")
    rows = [tuple(c.inner_text() for c in r.locator("td").all()) for r in page.locator("#denied-actions tbody tr").all()]
    assert rows == [("port.create", "3"), ("billing.view", "2")]
    users = [tuple(c.inner_text() for c in r.locator("td").all()) for r in page.locator("#denied-users tbody tr").all()]
    assert users == [(MIX, "5")]
    shot(page, "activity")
    page.goto(f"/console/activity?user={MIX}&unit=day")
    assert _buckets(page) == {f"{mix}T00:00:00Z": (3, 0), f"{now.date()}T00:00:00Z": (5, 5)}


def test_the_search_narrows_by_outcome_text_and_days(page, mix):
    """Outcome denied and the text "billing" leave the two billing.view denials; a day range leaves
    yesterday's logins; a bad date is refused with a message and nothing else shown."""
    sign_in(page)
    page.goto("/console/activity")
    page.get_by_label("User").fill(MIX)
    page.get_by_label("Outcome").select_option("false")
    page.get_by_label("Text").fill("BILLING")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    cells = [(r.locator("td").nth(2).inner_text(), r.locator("td").nth(4).inner_text())
             for r in page.locator("#entries tbody tr").all()]
    assert cells == [("billing.view", "denied")] * 2
    page.goto(f"/console/activity?user={MIX}&from={mix}&to={mix}")
    assert [r.locator("td").nth(2).inner_text() for r in page.locator("#entries tbody tr").all()] == ["login"] * 3
    page.goto(f"/console/activity?user={MIX}&from=yesterday")
    assert "is not a date" in page.get_by_role("status").inner_text()
    assert page.locator("#chart").count() == 0


def _api_items(live, query: dict) -> list[dict]:
    """Every item GET /v1/decisions gives for the query, page after page."""
    items, cursor = [], None
    while True:
        status, body = live.call("GET", "/v1/decisions?" + urllib.parse.urlencode(
            {**query, "limit": 500, **({"cursor": cursor} if cursor else {})}))
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def _as_csv(item: dict) -> dict[str, str]:
    """An API item as the CSV writes it: target split, true/false, null empty, formulas defused."""
    target = item["resource"] or {}
    flat = {**item, "resource_type": target.get("type"), "resource_id": target.get("id")}
    flat.pop("resource")
    shown = {k: "" if v is None else ("true" if v else "false") if isinstance(v, bool)
             else json.dumps(v, separators=(",", ":"), ensure_ascii=False, sort_keys=True) if isinstance(v, dict) else str(v)
             for k, v in flat.items()}
    return {k: "'" + v if v.startswith(FORMULA_START) else v for k, v in shown.items()}


@pytest.mark.parametrize("form, query", [
    ({"user": MIX, "allowed": "false"}, {"user": MIX, "allowed": "false"}),
    ({"account": "acme", "q": "port"}, {"account": "acme", "q": "port"}),
    ({}, {}),
])
def test_the_exports_are_the_apis_answer(page, live, mix, form, query):
    """CSV: one row per API item, same order, same values; NDJSON: the API's objects as they are."""
    sign_in(page)
    expected = _api_items(live, query)
    assert expected
    response = page.request.get("/console/activity.csv?" + urllib.parse.urlencode(form))
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(response.text()))) == [_as_csv(i) for i in expected]
    assert ("'" + HOSTILE in response.text().replace('""', '"')) == any(
        (i["resource"] or {}).get("id") == HOSTILE for i in expected)  # defused, never a bare formula
    response = page.request.get("/console/activity.ndjson?" + urllib.parse.urlencode(form))
    assert [json.loads(line) for line in response.text().splitlines()] == expected
