"""Contacts (R8.2) through the directory endpoints, and the notifications list (R8.3), over HTTP."""

from datetime import datetime

import pytest

from authz_service import store
from authz_service.mail import notifications
from authz_service.store import models
from tests.support.auth import bearer
from tests.support.errors import assert_error


def put_contact(client, email, name="Olga Admin", type_="admin", partner="acme", key=None):
    return client.put(f"/v1/partners/{partner}/contacts/{email}", json={"name": name, "type": type_},
                      headers=bearer(key) if key else bearer())


def list_contacts(client, partner="acme", **query):
    return client.get(f"/v1/partners/{partner}/contacts", query_string=query, headers=bearer())


def test_put_creates_then_changes_and_lists(client):
    """R8.2: a contact is a name, an email and a type; PUT 201 new, 200 changed; email lower-cased."""
    created = put_contact(client, "Olga@Acme.example")
    assert created.status_code == 201
    assert created.json == {"email": "olga@acme.example", "name": "Olga Admin", "type": "admin"}
    changed = put_contact(client, "olga@acme.example", name="Olga B.", type_="billing")
    assert changed.status_code == 200 and changed.json["type"] == "billing"
    listed = list_contacts(client)
    assert listed.status_code == 200
    assert listed.json == {"items": [{"email": "olga@acme.example", "name": "Olga B.",
                                      "type": "billing"}], "next_cursor": None}


def test_list_pages_by_email_and_stays_within_the_partner(client):
    """R8.2, R4.8: pages follow the list convention; another partner's contacts never appear."""
    for n in range(5):
        assert put_contact(client, f"c{n}@acme.example", type_="technical").status_code == 201
    assert put_contact(client, "gwen@globex.example", partner="globex").status_code == 201
    seen, cursor = [], None
    while True:
        page = list_contacts(client, limit=2, **({"cursor": cursor} if cursor else {})).json
        seen += [item["email"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"c{n}@acme.example" for n in range(5)]
    assert_error(list_contacts(client, cursor=cursor or "forged"), 422, "invalid_cursor")


def test_delete_is_204_then_404(client):
    """docs/api.md: DELETE answers 204; a contact already gone is 404 and changes nothing."""
    put_contact(client, "olga@acme.example")
    assert client.delete("/v1/partners/acme/contacts/OLGA@acme.example", headers=bearer()).status_code == 204
    again = client.delete("/v1/partners/acme/contacts/olga@acme.example", headers=bearer())
    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"
    assert list_contacts(client).json["items"] == []


@pytest.mark.parametrize("partner", ["nobody", "initech"])  # unknown, and a customer's id
def test_unknown_partner_is_404_everywhere(client, partner):
    """docs/api.md: a partner named in the path that does not exist is 404 (a customer is not one)."""
    assert put_contact(client, "olga@acme.example", partner=partner).status_code == 404
    assert list_contacts(client, partner=partner).status_code == 404
    gone = client.delete(f"/v1/partners/{partner}/contacts/olga@acme.example", headers=bearer())
    assert gone.status_code == 404
    assert client.get(f"/v1/partners/{partner}/notifications", headers=bearer()).status_code == 404


@pytest.mark.parametrize(("email", "body", "status"), [
    ("olga@acme.example", {"name": "Olga", "type": "owner"}, 422),  # unknown type
    ("olga@acme.example", {"name": "", "type": "admin"}, 422),
    ("olga@acme.example", {"type": "admin"}, 400),  # missing field
    ("olga@acme.example", {"name": "Olga", "type": "admin", "phone": "1"}, 400),  # unknown field
    ("not-an-email", {"name": "Olga", "type": "admin"}, 422),
])
def test_invalid_contacts_are_refused(client, email, body, status):
    """docs/api.md errors: unknown type 422, malformed 400, impossible email 422; nothing stored."""
    response = client.put(f"/v1/partners/acme/contacts/{email}", json=body, headers=bearer())
    assert response.status_code == status, response.json
    assert list_contacts(client).json["items"] == []


def test_scopes(client, keys):
    """docs/api.md: contacts need the manage scope, the notifications list the audit scope."""
    assert_error(put_contact(client, "olga@acme.example", key=keys["decide"]), 403, "missing_scope")
    assert_error(client.get("/v1/partners/acme/contacts"), 401, "unauthorized")
    assert put_contact(client, "olga@acme.example", key=keys["manage"]).status_code == 201
    path = "/v1/partners/acme/notifications"
    assert client.get(path, headers=bearer(keys["manage"])).status_code == 403
    assert client.get(path, headers=bearer(keys["audit"])).status_code == 200


def test_contacts_are_not_users(client, api):
    """R8.2: a contact holds no group and no access; removing a user keeps a same-email contact."""
    assert put_contact(client, "olga@acme.example").status_code == 201
    result = api.authorize("olga@acme.example", "account.view", "acme").json
    assert result["allowed"] is False and result["group"] is None
    assert put_contact(client, "rita@acme.example", type_="technical").status_code == 201
    assert client.delete("/v1/users/rita@acme.example", headers=bearer()).status_code == 204
    emails = [item["email"] for item in list_contacts(client).json["items"]]
    assert emails == ["olga@acme.example", "rita@acme.example"]


def queue(event_id: str, partner="acme") -> None:
    with store.connection(), models.database.atomic():
        notifications.enqueue_service_event({
            "event_id": event_id, "event": "provisioned", "partner_id": partner,
            "customer_id": "initech", "customer_name": "Initech", "service_id": f"svc-{event_id}",
            "service_kind": "port", "monthly_price_cents": 12000, "actor": "ian@initech.example",
            "on_behalf_of_partner": None, "at": datetime(2026, 11, 24, 12, 0)})


def test_notifications_list_newest_first_with_status_filter(client):
    """R8.3: the outbox is visible: status, attempts, last error, one item per event and contact."""
    put_contact(client, "olga@acme.example")
    put_contact(client, "bill@acme.example", type_="billing")
    for n in range(3):
        queue(f"e{n}")
    path = "/v1/partners/acme/notifications"
    page = client.get(path, query_string={"limit": 2}, headers=bearer()).json
    assert [item["event_id"] for item in page["items"]] == ["e2", "e1"]
    item = page["items"][0]
    assert item["email"] == "olga@acme.example" and item["status"] == "pending"
    assert item["attempts"] == 0 and item["last_error"] is None and item["sent_at"] is None
    assert item["created_at"].endswith("Z") and "svc-e2" in item["subject"]
    rest = client.get(path, query_string={"cursor": page["next_cursor"]}, headers=bearer()).json
    assert [i["event_id"] for i in rest["items"]] == ["e0"] and rest["next_cursor"] is None
    assert client.get(path, query_string={"status": "sent"}, headers=bearer()).json["items"] == []
    assert client.get(path, query_string={"status": "lost"}, headers=bearer()).status_code == 422
    assert client.get("/v1/partners/globex/notifications", headers=bearer()).json["items"] == []


def test_removing_a_contact_drops_its_unsent_mail(client):
    """R8.2: mail not yet sent to a removed contact is kept as failed, never sent later."""
    put_contact(client, "olga@acme.example")
    queue("e1")
    client.delete("/v1/partners/acme/contacts/olga@acme.example", headers=bearer())
    item = client.get("/v1/partners/acme/notifications", headers=bearer()).json["items"][0]
    assert item["status"] == "failed" and "removed" in item["last_error"]


def test_readyz_says_mail_is_not_configured_and_metrics_show_the_outbox(client):
    """R8.3: without AUTHZ_SMTP_URL the service runs and keeps mail; /readyz and /metrics say so."""
    put_contact(client, "olga@acme.example")
    queue("e1")
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["mail"] == "not_configured"
    text = client.get("/metrics").get_data(as_text=True)
    assert "authz_mail_outbox_pending 1.0" in text
