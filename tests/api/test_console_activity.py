"""The console's Activity on both databases (decision 036): the chart's and the ranking's numbers
are counted by the database (SQLite and PostgreSQL bucket times differently); bad filters are
refused with a message; exports need a signed-in audit key."""

import re
from collections import Counter
from datetime import datetime, time, timedelta

from authz_service import store
from authz_service.log import activity_stats, audit
from authz_service.store import decisions
from authz_service.store.models import utcnow
from tests.support import log_entries
from tests.support.auth import BOOTSTRAP
from tests.support.console import entries, make_key, sign_in

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


def _logged(account=None, allowed=None, since=None, until=None, unit="day") -> tuple[list, list]:
    """The bars (oldest first) and the ranking of denied actions, counted from the log itself."""
    bars, denied = Counter(), Counter()
    for e in entries():
        if (account and e["account_id"] != account) or (allowed is not None and e["allowed"] != allowed) \
                or (since and e["at"] < since) or (until and e["at"] >= until):
            continue
        at = e["at"].replace(minute=0, second=0, microsecond=0, **({"hour": 0} if unit == "day" else {}))
        bars[at, e["allowed"]] += 1
        denied.update([e["action"]] * (not e["allowed"]))
    shown = sorted({at for at, _ in bars})
    return ([(f"{at:%Y-%m-%dT%H:%M:%S}Z", str(bars[at, True]), str(bars[at, False])) for at in shown],
            sorted(denied.items(), key=lambda kv: (-kv[1], kv[0]))[:10])


def _shown(client, query: str) -> tuple[list, list]:
    page = client.get(f"/console/activity?{query}").get_data(as_text=True)
    bars = [bar for bar in BAR.findall(page) if bar[1:] != ("0", "0")]  # gaps are drawn as zero
    ranked = re.findall(r"<code>([a-z_.]+)</code></td><td class=\"num\">(\d+)", RANK.search(page).group(1))
    return bars, [(action, int(n)) for action, n in ranked]


def _fold(most: int) -> None:
    with store.connection():
        decisions.fold_rollup(most)


def test_the_rolled_up_chart_is_the_logs_before_and_after_an_archive(client, tmp_path):
    """Decisions 042, 044: filters the log writer's rollup holds (an account or all, an outcome,
    whole days) show exactly the log's counts per hour and per day: before any fold, read from
    the rollup, with entries appended after its mark, partly folded, and once the oldest days are
    archived (their counts taken out)."""
    today = datetime.combine(utcnow().date(), time())
    actions = ("port.view", "port.create", "billing.view")
    made = [log_entries.entry(n, at=today - timedelta(days=n % 4, hours=n % 5, minutes=n % 7),
                              account_id=("initech", "hooli")[n % 2 and n % 3 == 0],
                              action=actions[n % 3], allowed=n % 4 != 1) for n in range(60)]
    log_entries.append(sorted(made, key=lambda e: e["at"]))  # archiving takes the oldest, in chain order
    assert sign_in(client, make_key("auditor", ["audit"])).status_code == 302
    first, last = (today - timedelta(days=2)).date(), today.date()
    cases = [("", {}), ("account=initech", {"account": "initech"}),
             ("account=hooli&allowed=false", {"account": "hooli", "allowed": False}),
             (f"from={first}&to={last}&unit=hour",
              {"since": today - timedelta(days=2), "until": today + timedelta(days=1), "unit": "hour"})]
    for moment in ("not folded", "rolled up", "appended since", "partly folded", "archived"):
        if moment == "rolled up":
            _fold(10**6)
        if moment == "partly folded":
            _fold(4)
        if moment == "appended since":  # counted from the log over the new entries' seq only
            log_entries.append([log_entries.entry(n, at=today + timedelta(minutes=n), action=actions[n % 3],
                                                  allowed=n % 2 == 0) for n in range(9)])
        if moment == "archived":
            with store.connection():
                assert audit.archive(today - timedelta(days=1), tmp_path / "old.jsonl") > 0
        for fresh in (False, True):  # totals this process kept, then one that starts from the rollup
            if fresh:
                activity_stats._tallies.clear()
            for query, where in cases:
                assert _shown(client, query) == _logged(**where), (moment, fresh, query)
