"""The console's Activity on both databases (decision 036): the chart's and the ranking's numbers
are counted by the database (SQLite and PostgreSQL bucket times differently); bad filters are
refused with a message; exports need a signed-in audit key."""

import re

from tests.support.auth import BOOTSTRAP
from tests.support.console import make_key, sign_in

BAR = re.compile(r'<g class="bucket" data-at="([^"]+)" data-allowed="(\d+)" data-denied="(\d+)">')
RANK = re.compile(r'<table id="denied-actions">.*?<tbody>(.*?)</tbody>', re.S)


def test_chart_and_ranking_count_a_known_mix(client, api):
    """Three allowed and two denied decisions of one user, now: one bar per hour and per day with
    (3, 2); port.create ranks before billing.view (R3: support may not create or see money)."""
    for action in ("port.view", "port.view", "account.view", "port.create", "billing.view"):
        api.authorize("sam@acme.example", action, "initech")
    assert sign_in(client, make_key("auditor", ["audit"])).status_code == 302
    for unit in ("hour", "day"):
        page = client.get(f"/console/activity?user=sam@acme.example&account=initech&unit={unit}").get_data(as_text=True)
        assert [(a, d) for _, a, d in BAR.findall(page)] == [("3", "2")], unit
        pattern = r"\d{4}-\d\d-\d\dT\d\d:00:00Z" if unit == "hour" else r"\d{4}-\d\d-\d\dT00:00:00Z"
        assert re.fullmatch(pattern, BAR.findall(page)[0][0])
    ranked = re.findall(r"<code>([a-z_.]+)</code></td><td class=\"num\">(\d+)", RANK.search(page).group(1))
    assert ranked == [("billing.view", "1"), ("port.create", "1")]  # ties by name


def test_bad_filters_are_refused_and_show_nothing(client):
    """A bad date, outcome or an over-long text: the API schema's refusal, said; no entries read."""
    sign_in(client, BOOTSTRAP)
    for query, said in (("from=yesterday", "is not a date"), ("allowed=maybe", "allowed:"),
                        ("to=9999-12-31", "is not a date"), ("from=1969-12-31", "since:"),
                        ("q=" + "x" * 201, "q: length must be between 1 and 200")):
        page = client.get(f"/console/activity?{query}").get_data(as_text=True)
        assert said in page and 'id="chart"' not in page, query
        assert client.get(f"/console/activity.csv?{query}").status_code == 422


def test_exports_need_a_signed_in_key_and_a_known_kind(client):
    """No session: sign-in; an unknown export kind is 404."""
    assert client.get("/console/activity.csv").status_code == 302
    sign_in(client, BOOTSTRAP)
    assert client.get("/console/activity.xlsx").status_code == 404
    assert client.get("/console/activity.ndjson").status_code == 200
