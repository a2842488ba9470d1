"""Privilege escalation: every changing endpoint, every kind of caller; only what the policy allows succeeds.

The oracle is POST /v1/authorize for the same (user, action, account): the policy's
own answer, which the decision tables pin cell by cell (R9.3). Every refusal leaves
the database as it was, compared table by table (the decision log excepted: a
refusal is recorded, R7.1).
"""

import re

import pytest

from authz_service import store
from authz_service.store.models import database
from tests.support.auth import bearer
from tests.support.soak import tally

CALLERS = ["ada@acme.example", "reggie@acme.example", "rita@acme.example", "sam@acme.example",
           "lee@acme.example", "pat@acme.example", "ian@initech.example", "ivy@initech.example",
           "iris@initech.example", "ike@initech.example", "uma@umbrella.example",
           "gina@globex.example", "gus@globex.example", "nobody@nowhere.example"]
# Written by every refusal on purpose: the log (R7.1) and a customer user's last activity (R5.6).
# The log's rollup (activity_count and its mark, decisions 042, 044) counts the refusal's entry; on PostgreSQL the log's
# monthly partitions (decision_YYYY_MM, decision_default; decision 038) are the log itself.
UNCOMPARED = {"decision", "log_head", "log_tree", "log_node", "schema_version", "setting", "activity_count",
              "activity_rolled"}


def compared(table: str) -> bool:
    return table not in UNCOMPARED and not re.fullmatch(r"decision_(\d{4}_\d{2}|default)", table)


def dump() -> dict:
    """Every row of every table but the log, in a stable order."""
    with store.connection():
        tables = sorted(t for t in database.get_tables() if compared(t))
        out = {}
        for table in tables:
            columns = [c.name for c in database.get_columns(table) if c.name != "last_activity"]
            quoted = ", ".join(f'"{c}"' for c in columns)
            out[table] = database.execute_sql(f'SELECT {quoted} FROM "{table}" ORDER BY {quoted}').fetchall()
        return out


@pytest.fixture
def world(client):
    """A service on initech and a pending invite at acme, made by acme's admin."""
    made = client.post("/v1/customers/initech/services", json={
        "user": "ada@acme.example", "service_id": "svc-base", "kind": "port",
        "monthly_price_cents": 1000}, headers=bearer())
    assert made.status_code == 201, made.json
    invite = client.post("/v1/partners/acme/invites", json={"user": "ada@acme.example",
                         "email": "new@wayne.example"}, headers=bearer())
    return {"invite": invite.json["invite_id"]}


def operations(world, user):
    """(name, action, account, method, path, body, success statuses) for one caller."""
    return [
        ("link", "grant.manage", "acme", "PUT", "/v1/customers/hooli/links/lee@acme.example",
         {"user": user, "group": "regular"}, {201}),
        ("unlink", "grant.manage", "acme", "DELETE",
         f"/v1/customers/initech/links/sam@acme.example?user={user}", None, {204}),
        ("invite", "customer.invite", "acme", "POST", "/v1/partners/acme/invites",
         {"user": user, "email": "other@wayne.example"}, {201}),
        ("revoke invite", "customer.invite", "acme", "DELETE",
         f"/v1/invites/{world['invite']}?user={user}", None, {200}),
        ("create service", "port.create", "initech", "POST", "/v1/customers/initech/services",
         {"user": user, "service_id": "svc-new", "kind": "port", "monthly_price_cents": 500}, {201}),
        ("upgrade service", "port.upgrade", "initech", "PATCH", "/v1/customers/initech/services/svc-base",
         {"user": user, "monthly_price_cents": 2000}, {200}),
        ("delete service", "port.delete", "initech", "DELETE",
         f"/v1/customers/initech/services/svc-base?user={user}", None, {204}),
    ]


@pytest.mark.parametrize("caller", CALLERS)
def test_only_what_the_policy_allows_changes_anything(client, api, world, caller):
    """R3, R4, R9: per operation, allowed by the policy -> success; otherwise 403 and nothing changed."""
    for name, action, account, method, path, body, ok in operations(world, caller):
        allowed = api.authorize(caller, action, account).json["allowed"]
        before = dump()
        response = client.open(path, method=method, json=body, headers=bearer())
        changed = not allowed and dump() != before
        tally("privilege matrix", requests=1, server_errors=response.status_code >= 500,
              unauthorized=changed)
        if allowed:
            assert response.status_code in ok, (name, caller, response.json)
        else:
            assert response.status_code == 403, (name, caller, response.status_code, response.json)
            assert response.json["error"]["details"]["decision_id"]
            assert not changed, (name, caller)


@pytest.mark.parametrize("scope", ["decide", "audit"])
def test_a_key_without_the_manage_scope_changes_nothing(client, keys, world, scope):
    """docs/api.md: a key without the endpoint's scope is 403 and nothing changes, even for a partner admin."""
    before = dump()
    for _, _, _, method, path, body, _ in operations(world, "ada@acme.example"):
        response = client.open(path, method=method, json=body, headers=bearer(keys[scope]))
        assert response.status_code == 403 and response.json["error"]["code"] == "missing_scope"
    for method, path, body in [("PUT", "/v1/partners/acme", {"name": "Taken"}),
                               ("PUT", "/v1/partners/acme/users/x@acme.example", {"group": "admin"}),
                               ("DELETE", "/v1/users/ada@acme.example", None)]:
        assert client.open(path, method=method, json=body, headers=bearer(keys[scope])).status_code == 403
    assert dump() == before


def test_a_session_cannot_be_bound_to_a_customer_out_of_sight(client):
    """R6.1: binding a view session to a customer the user does not see is 403; the binding stays."""
    for user, customer in [("lee@acme.example", "initech"), ("gina@globex.example", "initech"),
                           ("ian@initech.example", "umbrella"), ("rita@acme.example", "soylent")]:
        session = client.post("/v1/sessions", json={"user": user}, headers=bearer()).json["session_id"]
        before = dump()
        response = client.put(f"/v1/sessions/{session}/customer", json={"customer_id": customer},
                              headers=bearer())
        assert response.status_code == 403, (user, customer)
        assert dump() == before
