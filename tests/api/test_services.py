"""Services and logins as reported by other systems (docs/api.md "Services"; R3, R5.6, R6.2, R7, R8.1)."""

from datetime import timedelta

import pytest

from authz_service import store
from authz_service.portal import service_events
from authz_service.store import summary
from authz_service.store.models import Decision, Service, utcnow
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store
from tests.support.services import add, ago, delete, iso, login


def patch(client, service_id, customer="initech", user="ivy@initech.example", **body):
    return client.patch(f"/v1/customers/{customer}/services/{service_id}",
                        json={"user": user, **body}, headers=bearer())

def state(customer="initech") -> tuple:
    """Every service row and the customer's figures but last activity (a refused decision of its
    own user is activity, R5.6): what a refused call must leave alone."""
    with synced_store():
        rows = sorted(Service.select().tuples())
        figures = summary.read(customer)
    figures.pop("last_activity")
    return rows, figures


def last_activity(customer="initech"):
    with synced_store():
        return summary.read(customer)["last_activity"]


def decision(decision_id: str) -> Decision:
    with synced_store():
        return Decision.get_by_id(decision_id)


def last_entry() -> Decision:
    with synced_store():
        return Decision.select().order_by(Decision.seq.desc()).first()


def test_create_is_recorded_in_the_customers_log(client):
    """docs/api.md, R7.2: port.create for the user on the customer, with the service as resource."""
    response = add(client, "p-1", billing_starts_at=ago(1))
    assert response.status_code == 201, response.json
    assert response.json["service_id"] == "p-1" and response.json["ordered_at"].endswith("Z")
    entry = last_entry()
    assert (entry.action, entry.allowed, entry.log_account) == ("port.create", True, "initech")
    assert (entry.resource_type, entry.resource_id) == ("port", "p-1")
    assert state()[1]["ports"] == 1 and state()[1]["mrr_cents"] == 1000
    assert last_activity() == entry.at  # R5.6


@pytest.mark.parametrize(("kind", "action"), [
    ("cloud_hosted", "cloud_connection.create"), ("cloud_dedicated", "cloud_connection.create"),
    ("lag", "lag.create"), ("cross_connect", "cross_connect.create"),
    ("cloud_router", "cloud_router.create"), ("point_to_point", "point_to_point.create"),
    ("virtual_circuit", "virtual_circuit.create"),
])
def test_each_kind_checks_its_resource(client, kind, action):
    """docs/api.md: the action is <resource>.create; both cloud kinds are cloud_connection (R3)."""
    assert add(client, f"s-{kind}", kind=kind).status_code == 201
    assert (last_entry().action, last_entry().resource_type) == (action, kind)


@pytest.mark.parametrize("user", ["ike@initech.example", "iris@initech.example",
                                  "sam@acme.example", "uma@umbrella.example", "gina@globex.example"])
def test_refused_create_is_403_and_changes_nothing(client, user):
    """R3, R4: support, read_only, another customer's or partner's user: 403 with the decision."""
    before = state()
    response = add(client, "p-x", user=user)
    assert response.status_code == 403
    entry = decision(response.json["error"]["details"]["decision_id"])
    assert (entry.action, entry.allowed) == ("port.create", False)
    assert state() == before
    is_home = user.endswith("@initech.example")  # R5.6: a decision made for its own user
    assert (last_activity() == entry.at) is is_home


def test_refused_upgrade_and_delete_change_nothing(client):
    """R3: read_only and support never upgrade or delete; 403, nothing changes."""
    add(client, "v-1", kind="virtual_circuit", billing_starts_at=ago(2))
    before = state()
    for user in ("iris@initech.example", "ike@initech.example", "sam@acme.example"):
        assert patch(client, "v-1", user=user, monthly_price_cents=5).status_code == 403
        assert delete(client, "v-1", user=user).status_code == 403
    assert state() == before


def test_a_partner_user_acts_on_behalf(client, monkeypatch):
    """R4.2, R7.1, R8.1: rita (regular on initech) creates and deletes; the hook names acme."""
    events = []
    monkeypatch.setattr(service_events, "on_service_event",
                        lambda *args: events.append((args[0], args[2]["service_id"], args[3], args[4])))
    assert add(client, "p-9", user="rita@acme.example").status_code == 201
    assert last_entry().on_behalf_of_partner == "acme"
    assert delete(client, "p-9", user="ivy@initech.example").status_code == 204
    assert events == [("provisioned", "p-9", "rita@acme.example", "acme"),
                      ("deleted", "p-9", "ivy@initech.example", None)]


def test_session_decides_as_bound_customer(client):
    """R6.2: through a session bound to umbrella (support), rita cannot create on initech."""
    session = client.post("/v1/sessions", json={"user": "rita@acme.example"}, headers=bearer()).json
    client.put(f"/v1/sessions/{session['session_id']}/customer", json={"customer_id": "umbrella"},
               headers=bearer())
    before = state()
    response = add(client, "p-s", user="rita@acme.example", session=session["session_id"])
    assert response.status_code == 403 and state() == before
    client.put(f"/v1/sessions/{session['session_id']}/customer", json={"customer_id": "initech"},
               headers=bearer())
    assert add(client, "p-s", user="rita@acme.example", session=session["session_id"]).status_code == 201
    assert last_entry().session_id == session["session_id"]


def test_upgrade_changes_mrr(client):
    """docs/api.md PATCH: checks <resource>.upgrade; price and billing start change the figures (R5.2)."""
    add(client, "c-1", kind="cloud_hosted", price=700)
    assert state()[1]["mrr_cents"] == 0
    response = patch(client, "c-1", monthly_price_cents=900, billing_starts_at=ago(1))
    assert response.status_code == 200 and response.json["monthly_price_cents"] == 900
    assert last_entry().action == "cloud_connection.upgrade"
    assert state()[1]["mrr_cents"] == 900
    assert patch(client, "c-1", billing_starts_at=None).status_code == 200
    assert state()[1]["mrr_cents"] == 0


@pytest.mark.parametrize("kind", ["lag", "cross_connect"])
def test_kinds_without_upgrade_are_422(client, kind):
    """docs/api.md: lag and cross_connect have no upgrade in R3: 422, nothing recorded or changed."""
    add(client, "k-1", kind=kind)
    before, entries = state(), last_entry().id
    response = patch(client, "k-1", monthly_price_cents=1)
    assert response.status_code == 422 and response.json["error"]["code"] == "not_upgradable"
    assert state() == before and last_entry().id == entries


def test_delete_then_delete_again_is_404(client):
    """docs/api.md: a DELETE of something already gone is 404 and changes nothing; so is a PATCH."""
    add(client, "p-d", billing_starts_at=ago(3))
    assert delete(client, "p-d").status_code == 204
    assert state()[1]["ports"] == 0 and state()[1]["mrr_cents"] == 0
    before = state()
    assert delete(client, "p-d").status_code == 404
    assert patch(client, "p-d", monthly_price_cents=1).status_code == 404
    assert delete(client, "nope").status_code == 404
    assert state() == before


@pytest.mark.parametrize(("body", "status"), [
    ({"kind": "dark_fibre"}, 422), ({"monthly_price_cents": -1}, 422),
    ({"monthly_price_cents": "10"}, 400), ({"ordered_at": "yesterday"}, 422),
    ({"billing_starts_at": "2026-01-01T00:00:00"}, 422), ({"surprise": 1}, 400),
    ({"ordered_at": iso(utcnow() + timedelta(days=2))}, 422), ({"service_id": "a b"}, 422),
])
def test_invalid_bodies(client, body, status):
    """docs/api.md: unknown kind, negative price, bad or future times are 422; wrong shapes are 400."""
    before = state()
    full = {"user": "ivy@initech.example", "service_id": "z-1", "kind": "port",
            "monthly_price_cents": 1, **body}
    response = client.post("/v1/customers/initech/services", json=full, headers=bearer())
    assert response.status_code == status, response.json
    assert state() == before


def test_duplicate_and_unknown_customer(client):
    """docs/api.md: a service_id the customer already used is 409 (ids are per customer, so another
    customer may use it: docs/decisions/016); an unknown customer 404."""
    assert add(client, "dup").status_code == 201
    assert_error(add(client, "dup"), 409, "duplicate_id")
    assert add(client, "dup", customer="umbrella", user="uma@umbrella.example").status_code == 201
    assert_error(add(client, "new", customer="nowhere"), 404, "not_found")
    assert add(client, "new", customer="acme", user="ada@acme.example").status_code == 404
    assert_error(patch(client, "dup"), 422, "invalid")  # nothing to change

def test_login_is_logged_and_is_activity_for_home_users_only(client):
    """docs/api.md logins, R5.6: 204; a `login` entry in the account's log; only its own users count."""
    at = utcnow() - timedelta(days=3)
    assert login(client, "initech", "iris@initech.example", at=iso(at)).status_code == 204
    entry = last_entry()
    assert (entry.action, entry.rule, entry.reason, entry.group) == ("login", "fact:login", "login",
                                                                      "read_only")
    assert (entry.log_account, entry.allowed, entry.at) == ("initech", True, at)
    assert last_activity() == at
    assert login(client, "initech", "rita@acme.example").status_code == 204
    assert last_entry().on_behalf_of_partner == "acme"
    assert last_activity() == at
    assert login(client, "initech", "ian@initech.example", at=iso(at - timedelta(days=1))).status_code == 204
    assert last_activity() == at  # the latest time stays


def test_login_errors(client):
    """docs/api.md: unknown account or user 404; a time in the future 422; nothing recorded."""
    before = last_entry().id if last_entry() else None
    assert login(client, "nowhere", "ian@initech.example").status_code == 404
    assert login(client, "initech", "nobody@initech.example").status_code == 404
    assert login(client, "initech", "ian@initech.example",
                 at=iso(utcnow() + timedelta(hours=1))).status_code == 422
    assert (last_entry().id if last_entry() else None) == before


def test_figures_kept_with_events_equal_a_recount(client):
    """R5.2-R5.5, R5.7: after creates, upgrades and deletes, the figures kept event by event
    equal a recount from the services."""
    add(client, "a", "port", 100, billing_starts_at=ago(3), ordered_at=ago(9))
    add(client, "b", "cloud_dedicated", 200, billing_starts_at=iso(utcnow() + timedelta(days=2)))
    add(client, "c", "virtual_circuit", 300, ordered_at=ago(1))
    add(client, "d", "cloud_hosted", 400, billing_starts_at=ago(1))
    patch(client, "d", monthly_price_cents=450)
    delete(client, "c")
    kept = state()[1]
    with store.connection():
        summary.rebuild("acme", utcnow())
    assert state()[1] == kept
    assert (kept["mrr_cents"], kept["ports"], kept["vcs"], kept["cloud"]) == (550, 1, 2, 2)
