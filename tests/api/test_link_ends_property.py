"""R10.1 as a property: at any instant, with link ends just past and just ahead of it, authorize,
AuthZEN evaluation, subject search, the accounts list and the Customers page agree on which links
count, and a link counts exactly when it has no end or its end is later than that instant."""

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service import store
from authz_service.decide import authorize, gather
from authz_service.store import directory, links
from authz_service.store.models import utcnow
from tests.support.auth import bearer

worlds = itertools.count()
# the link's end relative to the instant asked about: none, just past, at it, just ahead
OFFSETS = (None, -timedelta(seconds=1), -timedelta(microseconds=1), timedelta(0),
           timedelta(microseconds=1), timedelta(seconds=1))
ACTIONS = ("account.view", "port.create")
user_group = st.sampled_from(("admin", "regular", "read_only", "support"))
link_cell = st.one_of(st.none(), st.tuples(st.sampled_from(("regular", "read_only", "support", "admin")),
                                           st.sampled_from(OFFSETS)))


@pytest.fixture
def clock(monkeypatch):
    """The instant every read judges links at (R10.1), held still while the property is checked."""
    now = [utcnow()]
    for module in (links, gather, authorize):
        monkeypatch.setattr(module, "utcnow", lambda: now[0])
    return now


def build(groups: list[str], cells: list, at) -> tuple[str, list[str], list[str]]:
    n = next(worlds)
    pid, cids = f"e{n}p", [f"e{n}c{j}" for j in range(3)]
    emails = [f"u{i}@{pid}.example" for i in range(len(groups))]
    with store.connection():
        directory.put_partner(pid, f"Partner {pid}")
        for cid in cids:
            directory.put_customer(cid, f"Customer {cid}", pid)
        for email, group in zip(emails, groups, strict=True):
            directory.put_user(email, pid, "partner", group)
        for (email, cid), cell in zip(itertools.product(emails, cids), cells, strict=False):
            if cell is not None:
                group, offset = cell
                directory.put_link(email, cid, group, None if offset is None else at + offset)
    return pid, cids, emails


def post(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body, headers=bearer())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def views(client, pid: str, cids: list[str], emails: list[str], action: str) -> dict:
    """{(email, customer): {path: (allowed, group)}}: each path's answer; a path that names no
    group (evaluation, accounts list) says only whether it allows."""
    seen: dict = {}
    holders = {cid: {r["id"]: r["properties"]["group"] for r in post(client, "/access/v1/search/subject", {
        "subject": {"type": "user"}, "action": {"name": action}, "resource": {"type": "account", "id": cid},
        "page": {"limit": 500}})["results"]} for cid in cids}
    for email in emails:
        reached = post(client, "/v1/authorize/accounts", {"user": email, "action": action, "limit": 500})["items"]
        page = client.get(f"/v1/partners/{pid}/customers", query_string={"user": email, "limit": 500},
                          headers=bearer()).json["items"]
        rows = {r["customer_id"]: r["group"] for r in page}
        for cid in cids:
            decision = post(client, "/v1/authorize", {"user": email, "action": action, "account": cid})
            evaluation = post(client, "/access/v1/evaluation", {
                "subject": {"type": "user", "id": email}, "action": {"name": action},
                "resource": {"type": "account", "id": cid}})
            group = decision["group"] if decision["allowed"] else None
            answers = {
                "authorize": (decision["allowed"], group),
                "evaluation": (evaluation["decision"], group),
                "subject search": (email in holders[cid], holders[cid].get(email)),
                "accounts list": (cid in reached, group),
            }
            if action == "account.view":  # the page lists every customer the user sees (R4)
                answers["customers page"] = (cid in rows, rows.get(cid))
            seen[(email, cid)] = answers
    return seen


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(user_group, min_size=1, max_size=3), cells=st.lists(link_cell, min_size=9, max_size=9))
def test_every_path_agrees_on_which_links_count(client, clock, groups, cells):
    """R10.1, R4.6: each (user, customer) is answered alike by the five paths, and a non-admin
    partner user holds a group there exactly when a link without an end, or ending after the
    instant, says so."""
    clock[0] = utcnow()
    pid, cids, emails = build(groups, cells, clock[0])
    ends = {}
    for (email, cid), cell in zip(itertools.product(emails, cids), cells, strict=False):
        ends[(email, cid)] = cell
    for action in ACTIONS:
        for (email, cid), answers in views(client, pid, cids, emails, action).items():
            assert len(set(answers.values())) == 1, (email, cid, action, answers)
            group = groups[emails.index(email)]
            cell = ends.get((email, cid))
            counts = cell is not None and (cell[1] is None or cell[1] > timedelta(0))
            if group != "admin" and action == "account.view":
                assert answers["authorize"] == ((True, cell[0]) if counts else (False, None)), (email, cid, cell)
