"""Access: who can act on a customer (R10.3), GET /v1/customers/{id}/access over HTTP."""

import pytest

from authz_service import store
from authz_service.decide import in_force
from authz_service.portal import access
from authz_service.store.models import Decision
from tests.support.auth import bearer
from tests.support.reads import synced_store

INITECH = [("ada@acme.example", "admin", "partner_admin"), ("ian@initech.example", "admin", "home"),
           ("ike@initech.example", "support", "home"), ("iris@initech.example", "read_only", "home"),
           ("ivy@initech.example", "regular", "home"), ("pat@acme.example", "admin", "partner_admin"),
           ("rita@acme.example", "regular", "link"), ("sam@acme.example", "support", "link")]


def get_access(client, customer, user="ada@acme.example", key=None, **query):
    return client.get(f"/v1/customers/{customer}/access", query_string={"user": user, **query},
                      headers=bearer(key) if key else bearer())


def walk(client, customer, **query) -> list[dict]:
    items, cursor = [], None
    while True:
        body = get_access(client, customer, **query, **({"cursor": cursor} if cursor else {})).json
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def rows(items) -> list[tuple]:
    return [(i["email"], i["group"], i["via"]) for i in items]


def decisions() -> list[tuple]:
    with synced_store():
        return list(Decision.select(Decision.user_email, Decision.action, Decision.account_id,
                                    Decision.allowed, Decision.log_account).order_by(Decision.seq).tuples())


def test_every_holder_with_group_and_how(client):
    """R10.3: home users, partner admins and linked users, by email, with the group and how."""
    response = get_access(client, "initech")
    assert response.status_code == 200
    assert rows(response.json["items"]) == INITECH
    assert response.json["next_cursor"] is None
    assert all(i["expires_at"] is None for i in response.json["items"])


def test_an_admins_old_link_is_not_what_they_act_with(client):
    """R4.1, R4.9: pat (partner admin, an old support link on hooli) acts there as admin."""
    assert rows(get_access(client, "hooli").json["items"]) == [
        ("ada@acme.example", "admin", "partner_admin"), ("hank@hooli.example", "regular", "home"),
        ("pat@acme.example", "admin", "partner_admin")]


def test_with_an_action_only_those_it_allows(client, api):
    """R10.3: with action, exactly the users authorize allows it."""
    listed = [i["email"] for i in walk(client, "initech", action="port.create")]
    assert listed == ["ada@acme.example", "ian@initech.example", "ivy@initech.example",
                      "pat@acme.example", "rita@acme.example"]
    assert listed == [e for e, _, _ in INITECH if api.allowed(e, "port.create", "initech")]


def test_pages_walk_every_holder_once(client):
    """docs/api.md lists: limit 1 walks every holder once, in email order."""
    assert rows(walk(client, "initech", limit=1)) == INITECH


def test_a_revoked_link_leaves_the_list_at_once(client):
    """R4.6: once the DELETE returns, the user holds nothing there."""
    client.delete("/v1/customers/initech/links/sam@acme.example", query_string={"user": "ada@acme.example"},
                  headers=bearer())
    assert "sam@acme.example" not in [i["email"] for i in walk(client, "initech")]


def test_the_customers_own_admin_may_read_and_it_is_recorded_there(client):
    """R10.3: the customer's admin (user.manage on it); R7.1, R7.2: recorded in its log."""
    before = len(decisions())
    response = get_access(client, "initech", user="ian@initech.example")
    assert response.status_code == 200 and rows(response.json["items"]) == INITECH
    assert decisions()[before:] == [("ian@initech.example", "user.manage", "initech", True, "initech")]


def test_a_partner_admin_is_recorded_once(client):
    """R7.1: a partner admin's read is one allowed decision."""
    before = len(decisions())
    get_access(client, "initech")
    assert decisions()[before:] == [("ada@acme.example", "user.manage", "initech", True, "initech")]


@pytest.mark.parametrize("actor", ["ivy@initech.example", "sam@acme.example", "rita@acme.example",
                                   "reggie@acme.example", "gina@globex.example", "uma@umbrella.example",
                                   "nobody@acme.example"])
def test_anyone_else_is_refused_with_the_decision(client, actor):
    """R10.3: neither user.manage on the customer nor grant.manage on its partner: 403 naming the
    recorded decision; both questions are in the log."""
    before = len(decisions())
    response = get_access(client, "initech", user=actor)
    assert response.status_code == 403
    assert response.json["error"]["details"]["decision_id"]
    assert [(a, acc, ok) for _, a, acc, ok, _ in decisions()[before:]] == [
        ("user.manage", "initech", False), ("grant.manage", "acme", False)]


def test_another_partners_admin_sees_nothing(client):
    """R4.8: gina (globex admin) cannot list acme's customer; acme's ada cannot list soylent."""
    assert get_access(client, "initech", user="gina@globex.example").status_code == 403
    assert get_access(client, "soylent").status_code == 403


@pytest.mark.parametrize(("customer", "query", "status", "code"), [
    ("nowhere", {}, 404, "not_found"),
    ("acme", {}, 404, "not_found"),  # a partner, not a customer
    ("initech", {"action": "port.fly"}, 400, "unknown_action"),
    ("initech", {"limit": 0}, 422, "invalid"),
    ("initech", {"limit": 501}, 422, "invalid"),
    ("initech", {"cursor": "%%%"}, 422, "invalid_cursor"),
    ("initech", {"colour": "red"}, 400, "malformed"),
])
def test_bad_requests_get_the_contracts_errors(client, customer, query, status, code):
    """docs/api.md: 404 unknown customer, 400 unknown action, 422 limit out of range; a refused
    request records nothing."""
    before = len(decisions())
    response = get_access(client, customer, **query)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert len(decisions()) == before


def test_needs_the_manage_scope(client, keys):
    """docs/api.md: scope manage; another key is 403, none is 401."""
    assert get_access(client, "initech", key=keys["manage"]).status_code == 200
    for scope in ("decide", "audit"):
        assert get_access(client, "initech", key=keys[scope]).status_code == 403
    assert client.get("/v1/customers/initech/access", query_string={"user": "ada@acme.example"}).status_code == 401


def test_missing_user_is_400(client):
    assert client.get("/v1/customers/initech/access", headers=bearer()).status_code == 400


def test_links_say_whether_the_policy_uses_them(client):
    """R4.1, R4.9: Manage Users' links carry in_use; a partner admin's old link is unused."""
    hooli = client.get("/v1/customers/hooli/links", query_string={"user": "ada@acme.example"}, headers=bearer())
    assert [(i["email"], i["group"], i["in_use"]) for i in hooli.json["items"]] == [
        ("pat@acme.example", "support", False)]
    initech = client.get("/v1/customers/initech/links", query_string={"user": "ada@acme.example"},
                         headers=bearer())
    assert [i["in_use"] for i in initech.json["items"]] == [True, True]


def test_without_a_policy_the_requests_own_is_used(app):
    """decide/in_force.py: called as agreed (no policy), inside a request the functions use the
    app's policy in force; outside one they refuse rather than guess."""
    policy = app.extensions["authz"].policy
    with app.test_request_context("/healthz"), store.connection():
        app.preprocess_request()
        assert access.who_can("initech", None, 50, None) == access.who_can("initech", None, 50, None,
                                                                            policy=policy)
        assert [i["account_id"] for i in access.accounts_for("RITA@acme.example", "port.view", 50, None)[0]] == [
            "acme", "initech", "umbrella"]
        assert "port.create" in access.actions_for("ivy@initech.example", "initech")
    in_force.use(None)
    with store.connection(), pytest.raises(RuntimeError):
        access.who_can("initech", None, 50, None)


@pytest.mark.parametrize("value", ["a\x00b", "a\ud800b", "x" * 10_000])
def test_values_no_store_keeps_are_empty_answers(app, value):
    """Unknown account or user: empty, never an error (PostgreSQL refuses NUL; no encoder a lone
    surrogate)."""
    policy = app.extensions["authz"].policy
    with store.connection():
        assert access.who_can(value, None, 50, None, policy=policy) == ([], None)
        assert access.who_can("initech", value, 50, None, policy=policy) == ([], None)
        assert access.accounts_for(value, None, 50, None, policy=policy) == ([], None)
        assert access.actions_for(value, "initech", policy=policy) == []
        assert access.actions_for("ada@acme.example", value, policy=policy) == []
