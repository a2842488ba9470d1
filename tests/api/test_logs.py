"""The activity and decision logs over HTTP (R7.1-R7.3)."""

import pytest

from authz_service.store.models import Decision
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store

FIELDS = {"entry_id", "at", "user", "action", "resource", "allowed", "group",
          "on_behalf_of_partner", "session", "decision_id", "rule", "reason", "account", "caller",
          "altered", "facts", "policy_version"}  # altered: docs/decisions/013; facts: 033


def activity(client, account, user, **query):
    return client.get(f"/v1/accounts/{account}/activity", headers=bearer(),
                      query_string={"user": user, **query})


def decisions(client, **query):
    return client.get("/v1/decisions", headers=bearer(), query_string=query)


def by_decision(items: list[dict]) -> dict:
    return {i["decision_id"]: i for i in items}


def test_every_field_of_a_decision_is_recorded(client, api):
    """R7.1: time, user, account, action, target, outcome, group, rule, session, caller, partner."""
    session = client.post("/v1/sessions", json={"user": "rita@acme.example"}, headers=bearer())
    session_id = session.json["session_id"]
    client.put(f"/v1/sessions/{session_id}/customer", json={"customer_id": "initech"},
               headers=bearer())
    answer = api.authorize("RITA@acme.example", "port.create", "initech",
                           resource={"type": "port", "id": "port-7"}, session=session_id).json
    entry = by_decision(decisions(client, user="rita@acme.example").json["items"])[answer["decision_id"]]
    assert set(entry) == FIELDS
    assert entry["at"].endswith("Z") and entry["entry_id"].isdigit()
    assert entry | {"at": None, "entry_id": None} == {
        "at": None, "entry_id": None, "user": "rita@acme.example", "account": "initech",
        "action": "port.create", "resource": {"type": "port", "id": "port-7"}, "allowed": True,
        "group": "regular", "rule": answer["rule"], "reason": answer["reason"],
        "session": session_id, "caller": "bootstrap", "on_behalf_of_partner": "acme",
        "decision_id": answer["decision_id"], "altered": False,
        "facts": {"kind": "customer", "relation": "owner", "home_group": "read_only", "link_group": "regular",
                  "session": "bound"},
        "policy_version": client.application.extensions["authz"].policy.version}


def test_a_denied_decision_is_recorded_in_the_customers_log(client, api):
    """R7.1, R7.3: lee (no link) is refused on hooli; the refusal is in hooli's activity."""
    denied = api.authorize("lee@acme.example", "port.create", "hooli").json
    assert denied["allowed"] is False
    items = activity(client, "hooli", "hank@hooli.example").json["items"]
    entry = by_decision(items)[denied["decision_id"]]
    assert (entry["user"], entry["allowed"], entry["group"]) == ("lee@acme.example", False, None)
    assert entry["on_behalf_of_partner"] == "acme"


def test_a_partner_users_action_lands_in_the_customers_log_only(client, api):
    """R7.2, R7.3: rita acting in initech shows in initech's log, never in acme's."""
    answer = api.authorize("rita@acme.example", "port.create", "initech").json
    customer = by_decision(activity(client, "initech", "ian@initech.example", limit=500).json["items"])
    assert customer[answer["decision_id"]]["on_behalf_of_partner"] == "acme"
    partner = by_decision(activity(client, "acme", "ada@acme.example", limit=500).json["items"])
    assert answer["decision_id"] not in partner


def test_partner_account_actions_land_in_the_partners_log(client):
    """R7.2: linking a user (grant.manage on the partner) goes to acme's log, not hooli's."""
    put = client.put("/v1/customers/hooli/links/lee@acme.example",
                     json={"user": "ada@acme.example"}, headers=bearer())
    assert put.status_code == 201
    partner = activity(client, "acme", "ada@acme.example").json["items"]
    assert any(i["action"] == "grant.manage" and i["user"] == "ada@acme.example" for i in partner)
    customer = activity(client, "hooli", "ada@acme.example", limit=500).json["items"]
    assert not any(i["action"] == "grant.manage" for i in customer)


def test_reading_activity_needs_activity_view_and_is_recorded(client):
    """R7.3: gina (another partner) gets 403 + decision_id; both reads are in initech's log."""
    refused = activity(client, "initech", "gina@globex.example")
    assert_error(refused, 403, "forbidden")
    refused_id = refused.json["error"]["details"]["decision_id"]
    page = activity(client, "initech", "ian@initech.example").json["items"]
    assert page[0]["action"] == "activity.view" and page[0]["user"] == "ian@initech.example"
    assert by_decision(page)[refused_id]["allowed"] is False


def test_unknown_account_scope_and_key(client, keys):
    """docs/api.md: 404 for an unknown account; the audit scope is needed; no key is 401."""
    assert_error(activity(client, "nope", "ian@initech.example"), 404, "not_found")
    for path in ("/v1/accounts/initech/activity?user=ian@initech.example", "/v1/decisions"):
        assert_error(client.get(path, headers=bearer(keys["decide"])), 403, "missing_scope")
        assert client.get(path, headers=bearer(keys["audit"])).status_code == 200
        assert_error(client.get(path), 401, "unauthorized")


def test_activity_pages_walk_every_entry_once_newest_first(client, api):
    """R7.3: limit 4 pages over 23+ entries: each entry once, (at, entry) descending."""
    for n in range(23):
        api.authorize("ivy@initech.example", "port.create" if n % 3 else "billing.manage", "initech")
    seen, cursor = [], None
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = activity(client, "initech", "ian@initech.example", **query).json
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    keys = [(i["at"], int(i["entry_id"])) for i in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    top = int(seen[0]["entry_id"])  # later reads of this walk are newer than its first page
    with synced_store():
        expected = {str(d.seq) for d in Decision.select().where(
            (Decision.log_account == "initech") & (Decision.seq <= top))}
    assert {i["entry_id"] for i in seen if int(i["entry_id"]) <= top} == expected
    assert len(expected) >= 24


def test_decisions_filters(client, api):
    """docs/api.md Logs: user, account, action, allowed, since, until; all answered newest first."""
    api.authorize("rita@acme.example", "port.create", "initech")
    api.authorize("lee@acme.example", "port.create", "hooli")
    api.authorize("nobody@x.example", "port.view", "ghost")
    everything = decisions(client, limit=500).json["items"]
    assert {i["user"] for i in everything} >= {"rita@acme.example", "lee@acme.example",
                                              "nobody@x.example"}
    cases = [({"user": "LEE@acme.example"}, lambda i: i["user"] == "lee@acme.example"),
             ({"account": "ghost"}, lambda i: i["account"] == "ghost"),
             ({"action": "port.create"}, lambda i: i["action"] == "port.create"),
             ({"allowed": "false"}, lambda i: i["allowed"] is False),
             ({"allowed": "true", "account": "initech"},
              lambda i: i["allowed"] and i["account"] == "initech")]
    for query, wanted in cases:
        items = decisions(client, limit=500, **query).json["items"]
        assert items and items == [i for i in everything if wanted(i)], query
    middle = everything[1]["at"]
    assert decisions(client, since=middle, limit=500).json["items"] == [
        i for i in everything if i["at"] >= middle]
    assert decisions(client, until=middle, limit=500).json["items"] == [
        i for i in everything if i["at"] < middle]


def test_decisions_free_text(client, api):
    """`q` (decision 036): a case-insensitive part of the user, action, target, reason, rule, caller,
    partner or decision id; LIKE's wildcards in it are literal characters."""
    api.authorize("rita@acme.example", "port.create", "initech", resource={"type": "port", "id": "Port_50%-A"})
    api.authorize("rita@acme.example", "port.create", "initech", resource={"type": "port", "id": "PortX50Y-A"})
    everything = decisions(client, limit=500).json["items"]
    target = lambda i: (i["resource"] or {}).get("id") or ""  # noqa: E731
    cases = {"port_50%": lambda i: "port_50%" in target(i).lower(),
             "PORT.CREATE": lambda i: "port.create" in i["action"],
             "acme.EXAMPLE": lambda i: "acme.example" in i["user"] or "acme.example" in i["reason"].lower()
             or "acme.example" in target(i),
             everything[0]["decision_id"][-12:].upper(): lambda i: i["decision_id"] == everything[0]["decision_id"]}
    for text, wanted in cases.items():
        items = decisions(client, limit=500, q=text).json["items"]
        assert items and items == [i for i in everything if wanted(i)], text
    assert [target(i) for i in decisions(client, q="_50%").json["items"]] == ["Port_50%-A"]


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"allowed": "yes"},
                                   {"since": "yesterday"}, {"until": "2026-11-24T12:00:00"},
                                   {"cursor": "not-a-cursor"}, {"q": ""}, {"q": "x" * 201}])
def test_bad_queries_are_422(client, query):
    """docs/api.md conventions: a limit out of 1-500, a bad boolean, time or cursor is 422."""
    response = decisions(client, **query)
    assert response.status_code == 422, response.json
    if set(query) <= {"limit", "cursor"}:
        assert activity(client, "initech", "ian@initech.example", **query).status_code == 422


def test_a_cursor_of_one_list_is_refused_by_another(client, api):
    """A signed cursor names its list: an activity cursor is no /v1/decisions cursor (422)."""
    api.authorize("ivy@initech.example", "port.create", "initech")
    body = activity(client, "initech", "ian@initech.example", limit=1).json
    assert_error(decisions(client, cursor=body["next_cursor"]), 422, "invalid_cursor")
    body = decisions(client, limit=1).json
    refused = activity(client, "initech", "ian@initech.example", cursor=body["next_cursor"])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "invalid_cursor"


def test_an_entry_the_policy_did_not_decide_shows_no_facts(client):
    """R9.7: a login is a fact, not a decision: its entry has no facts and no policy version."""
    assert client.post("/v1/accounts/initech/logins", json={"user": "ian@initech.example"},
                       headers=bearer()).status_code == 204
    items = activity(client, "initech", "ian@initech.example").json["items"]
    login = next(i for i in items if i["action"] == "login")
    assert (login["facts"], login["policy_version"]) == (None, None)
