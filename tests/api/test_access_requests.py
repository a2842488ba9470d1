"""Requests for access (R10.2) over HTTP: every state transition, who may take each step (the
policy's grant.request and grant.manage), the link an approval makes, and the races."""

import threading
from datetime import timedelta

import pytest

from authz_service import store
from authz_service.log import chain
from authz_service.portal import link_ends
from authz_service.store import directory
from authz_service.store.models import (
    AccessRequest,
    Decision,
    Link,
    Notification,
    to_micros,
    utcnow,
)
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store

ADA, PAT, REGGIE = "ada@acme.example", "pat@acme.example", "reggie@acme.example"


def ask(client, user=REGGIE, customer="hooli", **body):
    body = {"user": user, "reason": "incident 42", "duration_hours": 48, **body}
    return client.post(f"/v1/customers/{customer}/access-requests", json=body, headers=bearer())


def approve(client, request_id, user=ADA, **body):
    return client.post(f"/v1/access-requests/{request_id}/approve", json={"user": user, **body}, headers=bearer())


def deny(client, request_id, user=ADA, reason="not needed"):
    return client.post(f"/v1/access-requests/{request_id}/deny", json={"user": user, "reason": reason},
                       headers=bearer())


def cancel(client, request_id, user=REGGIE):
    return client.delete(f"/v1/access-requests/{request_id}", query_string={"user": user}, headers=bearer())


def listed(client, user=ADA, partner="acme", **query):
    return client.get(f"/v1/partners/{partner}/access-requests", query_string={"user": user, **query},
                      headers=bearer())


def requests_table() -> list[tuple]:
    with store.connection():
        return sorted(AccessRequest.select(AccessRequest.id, AccessRequest.status).tuples())


def link_of(email=REGGIE, customer="hooli"):
    with store.connection():
        return Link.get_or_none((Link.user == email) & (Link.customer == customer))


def logged(request_id: str) -> list[tuple]:
    with synced_store():
        return [(d.action, d.allowed, d.log_account) for d in
                Decision.select().where(Decision.resource_id == request_id).order_by(Decision.seq)]


def test_ask_then_approve_makes_an_expiring_link(client, api):
    """R10.2: a regular partner user asks (201 pending, support by default); an admin approves:
    the request is approved and the link ends after the hours asked (R10.1)."""
    made = ask(client)
    assert made.status_code == 201, made.json
    request = made.json
    assert (request["status"], request["group"], request["requester"]) == ("pending", "support", REGGIE)
    assert not api.allowed(REGGIE, "port.edit", "hooli")
    before = utcnow()
    done = approve(client, request["request_id"])
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["decided_by"], done.json["granted_hours"]) == ("approved", ADA, 48)
    link = link_of()
    assert link.group == "support"
    assert before + timedelta(hours=48) <= link.expires_at <= utcnow() + timedelta(hours=48)
    assert api.allowed(REGGIE, "port.edit", "hooli")
    assert logged(request["request_id"]) == [("grant.manage", True, "acme")]


def test_approve_with_a_lesser_group_and_fewer_hours(client):
    """R10.2: an admin may give a lesser group (one allowing nothing more) or fewer hours, never more."""
    request_id = ask(client, group="regular", duration_hours=10).json["request_id"]
    assert_error(approve(client, request_id, group="admin"), 422, "greater_group")
    assert_error(approve(client, request_id, duration_hours=11), 422, "longer_duration")
    assert requests_table() == [(request_id, "pending")] and link_of() is None
    done = approve(client, request_id, group="read_only", duration_hours=2)
    assert done.status_code == 200, done.json
    assert (link_of().group, done.json["granted_group"]) == ("read_only", "read_only")


@pytest.mark.parametrize("who", [ADA, "ian@initech.example", "gina@globex.example", "nobody@acme.example"])
def test_only_a_partners_non_admin_user_may_ask(client, who):
    """R10.2 (grant.request): a partner admin (nothing to ask for), a customer's user, another
    partner's user or an unknown user: 403, nothing stored."""
    assert_error(ask(client, user=who), 403, "forbidden")
    assert requests_table() == []


@pytest.mark.parametrize(("body", "status"), [
    ({"duration_hours": 0}, 422), ({"duration_hours": 721}, 422), ({"reason": ""}, 422),
    ({"group": "ghost"}, 422), ({"duration_hours": "48"}, 400), ({"reason": None}, 400), ({"extra": 1}, 400),
])
def test_bad_requests_are_refused_and_change_nothing(client, body, status):
    assert ask(client, **body).status_code == status
    assert requests_table() == []


def test_an_unknown_customer_is_404(client):
    assert_error(ask(client, customer="nosuch"), 404, "not_found")


@pytest.mark.parametrize("who", [REGGIE, "rita@acme.example", "ian@initech.example", "gina@globex.example"])
def test_only_a_partner_admin_decides(client, who):
    """R10.2 (grant.manage): nobody but the partner's admins approves or denies; nothing changes."""
    request_id = ask(client).json["request_id"]
    assert_error(approve(client, request_id, user=who), 403, "forbidden")
    assert_error(deny(client, request_id, user=who), 403, "forbidden")
    assert requests_table() == [(request_id, "pending")] and link_of() is None


def test_deny_with_a_reason_then_nothing_more(client):
    """R10.2: a denied request keeps the reason; deciding it again, or cancelling it, is 409."""
    request_id = ask(client).json["request_id"]
    done = deny(client, request_id, reason="use the shared runbook")
    assert (done.json["status"], done.json["decision_reason"]) == ("denied", "use the shared runbook")
    assert_error(approve(client, request_id), 409, "not_pending")
    assert_error(deny(client, request_id), 409, "not_pending")
    assert_error(cancel(client, request_id), 409, "not_pending")
    assert link_of() is None


def test_the_requester_cancels_and_nobody_else(client):
    """R10.2: the requester withdraws (204, cancelled); another user finds no such request (404);
    a cancelled request cannot be approved (409)."""
    request_id = ask(client).json["request_id"]
    assert_error(cancel(client, request_id, user="rita@acme.example"), 404, "not_found")
    assert cancel(client, request_id).status_code == 204
    assert requests_table() == [(request_id, "cancelled")]
    assert_error(approve(client, request_id), 409, "not_pending")
    assert [a for a, _, _ in logged(request_id)] == ["grant.request", "grant.manage", "grant.manage"]


def test_a_request_expires_after_seven_days(client):
    """R10.2: a request waits at most 7 days: then it is listed as expired and approving it is 409."""
    request_id = ask(client).json["request_id"]
    with store.connection():
        AccessRequest.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert_error(approve(client, request_id), 409, "not_pending")
    assert link_of() is None
    assert [i["status"] for i in listed(client).json["items"]] == ["expired"]
    assert listed(client, status="pending").json["items"] == []
    assert [i["request_id"] for i in listed(client, status="expired").json["items"]] == [request_id]


def test_a_request_waits_seven_days_from_its_creation(client):
    made = ask(client).json
    with store.connection():
        row = AccessRequest.get_by_id(made["request_id"])
    assert row.expires_at - row.created_at == timedelta(days=7)


def test_a_requester_removed_while_pending(client):
    """R10.2: removing the requester cancels their pending request: approving it is 409, no link."""
    request_id = ask(client).json["request_id"]
    with store.connection():
        directory.delete_user(REGGIE)
    assert_error(approve(client, request_id), 409, "not_pending")
    assert requests_table() == [(request_id, "cancelled")] and link_of() is None


def test_who_reads_the_list(client):
    """The partner's admins read every request; a requester only their own; others 403."""
    mine = ask(client).json["request_id"]
    theirs = ask(client, user="rita@acme.example").json["request_id"]
    assert sorted(i["request_id"] for i in listed(client).json["items"]) == sorted([mine, theirs])
    assert [i["request_id"] for i in listed(client, user=REGGIE).json["items"]] == [mine]
    assert_error(listed(client, user="ian@initech.example"), 403, "forbidden")
    assert_error(listed(client, user="gina@globex.example"), 403, "forbidden")
    assert_error(listed(client, partner="initech"), 404, "not_found")
    assert listed(client, status="bogus").status_code == 422


def test_each_step_is_in_the_partners_log(client):
    """R10.2, R7.2: asking, approving and the refusals are entries in the partner's log."""
    request_id = ask(client).json["request_id"]
    approve(client, request_id)
    with synced_store():
        asked = Decision.select().where((Decision.action == "grant.request") & (Decision.resource_id == "hooli"))
        assert [(d.user_email, d.allowed, d.log_account) for d in asked] == [(REGGIE, True, "acme")]
    assert logged(request_id) == [("grant.manage", True, "acme")]


def test_asking_queues_one_mail_per_admin_contact(client):
    """R10.2, R8.1: each admin contact of the partner gets one outbox row for the request."""
    for email, kind in (("olga@acme.example", "admin"), ("omar@acme.example", "admin"), ("bill@acme.example", "billing")):
        assert client.put(f"/v1/partners/acme/contacts/{email}", json={"name": "N", "type": kind},
                          headers=bearer()).status_code == 201
    request_id = ask(client).json["request_id"]
    with store.connection():
        rows = sorted(Notification.select(Notification.email).where(
            Notification.event_id == f"access_request:{request_id}").tuples())
    assert rows == [("olga@acme.example",), ("omar@acme.example",)]


def test_two_admins_approving_at_once_one_wins(client, app):
    """R10.2: two partner admins approve the same request at the same moment: one 200, one 409,
    one link."""
    request_id = ask(client).json["request_id"]
    start, answers = threading.Barrier(2), []

    def approver(user):
        local = app.test_client()
        start.wait()
        answers.append(approve(local, request_id, user=user, duration_hours=5 if user == ADA else 6).status_code)
        store.release()

    threads = [threading.Thread(target=approver, args=(u,)) for u in (ADA, PAT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 409]
    with store.connection():
        row = AccessRequest.get_by_id(request_id)
    assert row.status == "approved"
    link = link_of()
    assert link is not None and link.expires_at - row.decided_at == timedelta(hours=row.granted_hours)


def test_an_expiry_is_recorded_once_in_the_partners_log(client):
    """R10.2, R7.2: the sweeper marks a request past its 7 days expired and records that once."""
    request_id = ask(client).json["request_id"]
    pending = ask(client, user="rita@acme.example").json["request_id"]
    with store.connection():
        AccessRequest.update(expires_at=utcnow() - timedelta(seconds=1)).where(AccessRequest.id == request_id).execute()
        assert link_ends.sweep_requests() == 1
        assert link_ends.sweep_requests() == 0
    assert requests_table() == sorted([(request_id, "expired"), (pending, "pending")])
    assert logged(request_id) == [("grant.request", False, "acme")]
    assert logged(pending) == []


def _into(client, status: str) -> str:
    """A request brought into `status` by its own step."""
    request_id = ask(client).json["request_id"]
    if status == "approved":
        assert approve(client, request_id).status_code == 200
    elif status == "denied":
        assert deny(client, request_id).status_code == 200
    elif status == "cancelled":
        assert cancel(client, request_id).status_code == 204
    else:
        with store.connection():
            AccessRequest.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    return request_id


@pytest.mark.parametrize("status", ["approved", "denied", "cancelled", "expired"])
def test_no_step_leaves_a_request_that_is_not_pending(client, status):
    """R10.2: approve, deny and cancel are each 409 on a request that is approved, denied,
    cancelled or expired, and change nothing."""
    request_id = _into(client, status)
    with store.connection():
        before = AccessRequest.get_by_id(request_id).__data__
    for response in (approve(client, request_id), deny(client, request_id), cancel(client, request_id)):
        assert_error(response, 409, "not_pending")
        assert response.json["error"]["details"]["status"] == status
    with store.connection():
        assert AccessRequest.get_by_id(request_id).__data__ == before


def test_an_expiry_claimed_by_a_sweeper_that_died_is_recorded_once(client):
    """R10.2: an expiry claimed over STALE_CLAIM ago whose entry is missing is recorded (once);
    one whose entry was stored is only confirmed, not recorded again."""
    lost, kept = ask(client).json["request_id"], ask(client, user="rita@acme.example").json["request_id"]
    old_ms = to_micros(utcnow() - link_ends.STALE_CLAIM - timedelta(seconds=5)) // 1000
    with store.connection():
        AccessRequest.update(expires_at=utcnow() - timedelta(days=1), status="expired").execute()
        for request_id, tail in ((lost, "a"), (kept, "b")):
            AccessRequest.update(expired_entry=f"{old_ms:012x}" + tail * 20).where(AccessRequest.id == request_id).execute()
        row = AccessRequest.get_by_id(kept)
    chain.append([link_ends._expiry_entry(row, row.expired_entry)])
    with store.connection():
        assert link_ends.sweep_requests() == 1
        assert link_ends.sweep_requests() == 0
    assert logged(lost) == [("grant.request", False, "acme")]
    assert logged(kept) == [("grant.request", False, "acme")]
