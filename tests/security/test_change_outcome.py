"""A change that fails after its allowed decision was recorded leaves no bare allow: a second
entry for the same action says it was not done (decisions.change; docs/decisions/016)."""

import peewee as pw
import pytest

from authz_service import store
from authz_service.decide.authorize import NOT_DONE
from authz_service.store import services as store_services
from authz_service.store.models import Decision
from tests.support.auth import bearer

SERVICE = {"user": "ivy@initech.example", "service_id": "svc-1", "kind": "port",
           "monthly_price_cents": 100}


def entries(since: int = 0) -> list[Decision]:
    with store.connection():
        return list(Decision.select().where(Decision.seq > since).order_by(Decision.seq))


def last_seq() -> int:
    with store.connection():
        return Decision.select(pw.fn.MAX(Decision.seq)).scalar() or 0


def assert_allowed_then_not_done(new: list[Decision], action: str, response) -> None:
    """Exactly the allow and its outcome, the outcome naming the allow and the failure."""
    assert [(e.action, e.allowed, e.rule == NOT_DONE) for e in new] == [
        (action, True, False), (action, False, True)], [(e.action, e.allowed, e.rule) for e in new]
    allow, outcome = new
    assert (outcome.user_email, outcome.account_id, outcome.log_account, outcome.resource_type,
            outcome.resource_id, outcome.caller) == (allow.user_email, allow.account_id,
                                                     allow.log_account, allow.resource_type,
                                                     allow.resource_id, allow.caller)
    assert allow.id in outcome.reason
    decision_id = (response.get_json() or {}).get("error", {}).get("details", {}).get("decision_id")
    assert decision_id in (None, allow.id)


def test_a_duplicate_service_id_records_the_create_as_not_done(client):
    """409 after port.create was allowed: the allow is followed by its not-done outcome."""
    assert client.post("/v1/customers/initech/services", json=SERVICE, headers=bearer()).status_code == 201
    before = last_seq()
    response = client.post("/v1/customers/initech/services", json=SERVICE, headers=bearer())
    assert response.status_code == 409
    assert_allowed_then_not_done(entries(before), "port.create", response)
    assert "duplicate_id" in entries(before)[1].reason


def test_a_store_failure_after_the_decision_records_not_done(client, monkeypatch):
    """Forced: the database fails the insert after the allow was recorded (503, nothing stored)."""
    def fail(*args, **kwargs):
        raise pw.OperationalError("the disk went away")

    monkeypatch.setattr(store_services, "create", fail)
    before = last_seq()
    response = client.post("/v1/customers/initech/services", json=SERVICE, headers=bearer())
    assert response.status_code == 503
    assert_allowed_then_not_done(entries(before), "port.create", response)


def test_linking_an_admin_records_grant_manage_as_not_done(client):
    """R4.4: the link is refused (409) after grant.manage was allowed for the partner admin."""
    before = last_seq()
    response = client.put("/v1/customers/initech/links/pat@acme.example", headers=bearer(),
                          json={"user": "ada@acme.example"})
    assert response.status_code == 409
    assert_allowed_then_not_done(entries(before), "grant.manage", response)


def test_revoking_a_revoked_invite_records_not_done(client):
    """404 after customer.invite was allowed: the second revoke did nothing."""
    made = client.post("/v1/partners/acme/invites", headers=bearer(),
                       json={"user": "ada@acme.example", "email": "new@wayne.example"})
    path = f"/v1/invites/{made.json['invite_id']}?user=ada@acme.example"
    assert client.delete(path, headers=bearer()).status_code == 200
    before = last_seq()
    response = client.delete(path, headers=bearer())
    assert response.status_code == 404
    assert_allowed_then_not_done(entries(before), "customer.invite", response)


@pytest.mark.parametrize("call", ["create", "link", "invite"])
def test_a_change_that_succeeds_or_is_denied_has_no_outcome_entry(client, call):
    """Only a failure after an allow adds an entry; a done change and a denial are one entry each."""
    before = last_seq()
    if call == "create":
        assert client.post("/v1/customers/initech/services", json=SERVICE, headers=bearer()).status_code == 201
        denied = client.post("/v1/customers/initech/services", headers=bearer(),
                             json={**SERVICE, "user": "iris@initech.example", "service_id": "svc-2"})
    elif call == "link":
        assert client.put("/v1/customers/initech/links/lee@acme.example", headers=bearer(),
                          json={"user": "ada@acme.example"}).status_code == 201
        denied = client.put("/v1/customers/initech/links/lee@acme.example", headers=bearer(),
                            json={"user": "reggie@acme.example"})
    else:
        assert client.post("/v1/partners/acme/invites", headers=bearer(),
                           json={"user": "ada@acme.example", "email": "x@wayne.example"}).status_code == 201
        denied = client.post("/v1/partners/acme/invites", headers=bearer(),
                             json={"user": "rita@acme.example", "email": "y@wayne.example"})
    assert denied.status_code == 403
    assert [e.allowed for e in entries(before)] == [True, False]
    assert all(e.rule != NOT_DONE for e in entries(before))
