"""Service ids are per customer (docs/decisions/016-hostile-input.md): "already exists" never
confirms another tenant's id, and mail events that embed a service id name the customer too."""

from authz_service import store
from authz_service.store.models import Notification, Service
from tests.support.auth import bearer
from tests.support.errors import assert_error


def add(client, customer, user, service_id="svc-1"):
    body = {"user": user, "service_id": service_id, "kind": "port", "monthly_price_cents": 100}
    return client.post(f"/v1/customers/{customer}/services", json=body, headers=bearer())


def test_another_partners_id_is_neither_confirmed_nor_blocked(client):
    """Globex's customer takes an id Acme's customer already uses: 201, not 409 "already exists";
    each keeps its own row, and each customer's own second use is still 409."""
    assert add(client, "initech", "ivy@initech.example").status_code == 201
    assert add(client, "soylent", "sol@soylent.example").status_code == 201
    error = assert_error(add(client, "soylent", "sol@soylent.example"), 409, "duplicate_id")
    assert error["details"] == {"service_id": "svc-1"}
    assert add(client, "initech", "ivy@initech.example").status_code == 409
    with store.connection():
        assert sorted(Service.select(Service.customer, Service.id).tuples()) == [
            ("initech", "svc-1"), ("soylent", "svc-1")]


def test_the_same_id_in_two_customers_is_two_services(client):
    """Upgrade and delete act on the named customer's service only."""
    assert add(client, "initech", "ivy@initech.example").status_code == 201
    assert add(client, "umbrella", "uma@umbrella.example").status_code == 201
    gone = client.delete("/v1/customers/umbrella/services/svc-1?user=uma@umbrella.example",
                         headers=bearer())
    assert gone.status_code == 204
    with store.connection():
        live = {c: d for c, d in Service.select(Service.customer, Service.deleted_at).tuples()}
    assert live["initech"] is None and live["umbrella"] is not None


def test_mail_event_ids_name_the_customer(client):
    """R8.3: one mail per event and contact; two customers' services with one id are two events,
    so the second customer's provisioning is mailed too, not swallowed as a duplicate."""
    put = client.put("/v1/partners/acme/contacts/ops@acme.example", headers=bearer(),
                     json={"name": "Ops", "type": "admin"})
    assert put.status_code in (200, 201), put.json
    assert add(client, "initech", "ivy@initech.example").status_code == 201
    assert add(client, "umbrella", "uma@umbrella.example").status_code == 201
    with store.connection():
        events = sorted(n.event_id for n in Notification.select()
                        if n.email == "ops@acme.example")
    assert events == ["provisioned:initech:svc-1", "provisioned:umbrella:svc-1"]
