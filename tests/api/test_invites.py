"""Invites (R1.2-R1.4) over HTTP: create, list, revoke, accept, expiry."""

from datetime import timedelta

import pytest

from authz_service import store
from authz_service.store.models import Account, Invite, User, utcnow
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store


def invite(client, email="new@wayne.example", user="reggie@acme.example", partner="acme"):
    return client.post(f"/v1/partners/{partner}/invites", json={"user": user, "email": email},
                       headers=bearer())


def accept(client, invite_id, customer_id="wayne", admin="bruce@wayne.example"):
    return client.post(f"/v1/invites/{invite_id}/accept", json={
        "customer_id": customer_id, "name": "Wayne Enterprises", "admin_email": admin}, headers=bearer())


def customers_of(partner="acme") -> list[str]:
    with store.connection():
        return sorted(a.id for a in Account.select().where(Account.partner == partner))


def page(client, user="ada@acme.example", partner="acme"):
    return client.get(f"/v1/partners/{partner}/invites", query_string={"user": user}, headers=bearer())


def test_invite_is_pending_for_30_days(client):
    """R1.2: a new invite is pending and expires 30 days after it was made."""
    response = invite(client)
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "pending" and body["email"] == "new@wayne.example"
    assert body["expires_at"].endswith("Z")
    with store.connection():
        row = Invite.get_by_id(body["invite_id"])
    assert row.expires_at - row.created_at == timedelta(days=30)


@pytest.mark.parametrize("actor", ["rita@acme.example", "sam@acme.example", "gina@globex.example",
                                   "ian@initech.example"])
def test_only_admin_and_regular_invite(client, actor):
    """R3 customer.invite: read_only, support and outsiders get 403; no invite is made."""
    response = invite(client, user=actor)
    assert response.status_code == 403
    assert response.json["error"]["details"]["decision_id"]
    with store.connection():
        assert Invite.select().count() == 0


def test_revoke_a_pending_invite(client):
    """R1.2: a partner revokes a pending invite; it cannot be accepted afterwards."""
    invite_id = invite(client).json["invite_id"]
    response = client.delete(f"/v1/invites/{invite_id}", query_string={"user": "ada@acme.example"},
                             headers=bearer())
    assert response.status_code == 200 and response.json["status"] == "revoked"
    assert_error(accept(client, invite_id), 409, "invite_not_pending")
    assert_error(client.delete(f"/v1/invites/{invite_id}", query_string={"user": "ada@acme.example"},
                               headers=bearer()), 404, "not_found")
    assert customers_of() == ["hooli", "initech", "umbrella"]


def test_revoke_needs_customer_invite(client):
    """R1.2, R3: a read_only user cannot revoke; the invite stays pending."""
    invite_id = invite(client).json["invite_id"]
    response = client.delete(f"/v1/invites/{invite_id}", query_string={"user": "rita@acme.example"},
                             headers=bearer())
    assert response.status_code == 403
    statuses = [i["status"] for i in page(client).json["items"]]
    assert statuses == ["pending"]


def test_an_expired_invite_cannot_be_accepted(client):
    """R1.2: after 30 days the invite is expired: listed so, refused at accept, no customer."""
    invite_id = invite(client).json["invite_id"]
    with store.connection():
        Invite.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert page(client).json["items"][0]["status"] == "expired"
    response = accept(client, invite_id)
    assert response.status_code == 409 and response.json["error"]["details"]["status"] == "expired"
    assert customers_of() == ["hooli", "initech", "umbrella"]


def test_accepting_creates_the_customer_and_its_admin(client, api):
    """R1.3: the customer belongs to the inviting partner; its first user is admin there."""
    invite_id = invite(client).json["invite_id"]
    response = accept(client, invite_id)
    assert response.status_code == 201
    assert response.json["partner_id"] == "acme" and response.json["customer_id"] == "wayne"
    assert api.authorize("bruce@wayne.example", "user.manage", "wayne").json["group"] == "admin"
    assert api.allowed("ada@acme.example", "port.view", "wayne")          # R4.1
    assert not api.allowed("gina@globex.example", "port.view", "wayne")   # R4.8
    assert accept(client, invite_id, customer_id="wayne2").status_code == 409
    assert page(client).json["items"][0]["status"] == "accepted"


def test_pending_invites_are_not_customers(client):
    """R1.4: pending, revoked and expired invites make no customer account."""
    first = invite(client, email="a@x.example").json["invite_id"]
    invite(client, email="b@x.example")
    client.delete(f"/v1/invites/{first}", query_string={"user": "ada@acme.example"}, headers=bearer())
    assert customers_of() == ["hooli", "initech", "umbrella"]
    listed = client.post("/v1/authorize/accounts", json={"user": "ada@acme.example",
                         "action": "account.view"}, headers=bearer()).json["items"]
    assert listed == ["acme", "hooli", "initech", "umbrella"]


def test_accept_refuses_a_taken_id_or_email_and_changes_nothing(client):
    """R1.3, R2.2: an existing account id or an email with a home already: 409, invite still pending."""
    invite_id = invite(client).json["invite_id"]
    assert accept(client, invite_id, customer_id="initech").status_code == 409
    assert accept(client, invite_id, admin="IAN@initech.example").status_code == 409
    assert page(client).json["items"][0]["status"] == "pending"
    with store.connection():
        assert User.get_by_id("ian@initech.example").account_id == "initech"


def test_invites_are_recorded_in_the_partners_log(client):
    """R7.2: inviting is recorded as customer.invite in the partner's own log."""
    from authz_service.store.models import Decision

    invite(client)
    with synced_store():
        rows = list(Decision.select().where(Decision.action == "customer.invite"))
    assert [(r.log_account, r.allowed, r.user_email) for r in rows] == [("acme", True, "reggie@acme.example")]


def test_unknown_partner_or_invite(client):
    """docs/api.md: an unknown partner or invite in the path is 404."""
    assert_error(invite(client, partner="nowhere"), 404, "not_found")
    assert_error(accept(client, "nope"), 404, "not_found")
    assert client.delete("/v1/invites/nope", query_string={"user": "ada@acme.example"},
                         headers=bearer()).status_code == 404
