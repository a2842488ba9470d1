"""Approving a request for access over a link the requester already holds (R10.2, decision 042):
an approval never takes away part of what is held. Kept when the link covers the grant,
replaced when the grant only widens and lengthens it, otherwise 409 `link_exists` with nothing
changed (the request stays pending); an ended link is no link and its end is recorded first."""

from datetime import timedelta

import pytest

from authz_service import store
from authz_service.store import directory
from authz_service.store.models import AccessRequest, Decision, Link, utcnow
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store

ADA, REGGIE, HOOLI = "ada@acme.example", "reggie@acme.example", "hooli"


def ask(client, group, hours=48):
    body = {"user": REGGIE, "reason": "incident 42", "duration_hours": hours, "group": group}
    made = client.post(f"/v1/customers/{HOOLI}/access-requests", json=body, headers=bearer())
    assert made.status_code == 201, made.json
    return made.json["request_id"]


def approve(client, request_id):
    return client.post(f"/v1/access-requests/{request_id}/approve", json={"user": ADA}, headers=bearer())


def hold(group, hours_left=None):
    """Give the requester a link to HOOLI, with no end or ending `hours_left` from now."""
    ends = None if hours_left is None else utcnow() + timedelta(hours=hours_left)
    with store.connection():
        directory.put_link(REGGIE, HOOLI, group, ends)


def held() -> tuple:
    with store.connection():
        row = Link.get((Link.user == REGGIE) & (Link.customer == HOOLI))
        return row.group, row.expires_at


def status(request_id) -> str:
    with store.connection():
        return AccessRequest.get_by_id(request_id).status


def hours_left(ends) -> float:
    return (ends - utcnow()) / timedelta(hours=1)


@pytest.mark.parametrize("has, left, asks", [
    ("read_only", None, "read_only"),  # a link with no end covers any time
    ("support", 100, "support"),  # ends later than the grant would
    ("regular", 100, "support"),  # regular allows all support does, and longer
])
def test_a_link_that_covers_the_grant_is_kept_as_it_is(client, has, left, asks):
    """Decision 042: approved, and the link keeps its group and its end (never shortened)."""
    hold(has, left)
    before = held()
    request_id = ask(client, asks)
    done = approve(client, request_id)
    assert done.status_code == 200, done.json
    assert held() == before and done.json["link"]["group"] == has
    assert status(request_id) == "approved"


def test_a_grant_that_only_widens_and_lengthens_replaces_the_link(client):
    """Decision 042: support for 10 h, regular for 48 h granted: regular, for 48 h."""
    hold("support", 10)
    done = approve(client, ask(client, "regular"))
    assert done.status_code == 200, done.json
    group, ends = held()
    assert group == "regular" and 47.9 < hours_left(ends) <= 48


@pytest.mark.parametrize("has, left, asks", [
    ("read_only", None, "support"),  # groups that are not comparable (R3: no ladder)
    ("read_only", None, "regular"),  # wider, but would end a link that has no end
    ("support", 100, "regular"),  # wider, but would end 52 h earlier
    ("regular", 10, "support"),  # longer, but narrower: would downgrade
])
def test_a_grant_that_would_take_anything_away_is_refused(client, has, left, asks):
    """Decision 042: 409 link_exists naming what is held; the link and the request unchanged."""
    hold(has, left)
    before = held()
    request_id = ask(client, asks)
    response = approve(client, request_id)
    assert_error(response, 409, "link_exists")
    assert has in response.json["error"]["message"]
    assert held() == before and status(request_id) == "pending"


def test_an_ended_link_is_no_link_and_its_end_is_recorded_once(client):
    """R10.1: a link past its end, not swept yet: the approval makes the granted link, and the old
    end is recorded once in the partner's log first."""
    hold("regular", 1)
    with store.connection():
        Link.update(expires_at=utcnow() - timedelta(seconds=1)).where(Link.user == REGGIE).execute()
    done = approve(client, ask(client, "support"))
    assert done.status_code == 200, done.json
    group, ends = held()
    assert group == "support" and 47.9 < hours_left(ends) <= 48
    with synced_store():
        ended = Decision.select().where((Decision.rule == "R10.1 link ended")
                                        & (Decision.resource_id == f"{HOOLI}/{REGGIE}")).count()
    assert ended == 1
