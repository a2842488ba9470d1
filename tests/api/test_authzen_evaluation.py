"""POST /access/v1/evaluation: the AuthZEN certification scenario's Basic level on our domain
(docs/api.md "AuthZEN 1.0"), recorded exactly as POST /v1/authorize (R7.1)."""

import pytest

from authz_service import store
from authz_service.store import sessions
from authz_service.store.models import utcnow
from tests.support.auth import bearer
from tests.support.authzen import (
    ALICE,
    BOB,
    READ,
    RECORD,
    WRITE,
    action,
    decisions,
    evaluation,
    post,
    resource,
    subject,
)

SAME = ("user", "account", "action", "resource", "allowed", "group", "rule", "reason", "session",
        "caller", "on_behalf_of_partner")


def decide(client, body, **kwargs):
    response = post(client, "evaluation", body, **kwargs)
    assert response.status_code == 200, response.json
    assert isinstance(response.json["decision"], bool)
    assert isinstance(response.json.get("context", {}), dict)
    return response.json


@pytest.mark.parametrize(("who", "what", "expected"), [
    (ALICE, READ, True), (ALICE, WRITE, True), (BOB, READ, True), (BOB, WRITE, False)])
def test_the_fixture_decisions(client, who, what, expected):
    """Scenario C.1.4 rules 1-4 (C.2.2.1, C.2.2.2): a deny is 200 with decision false."""
    assert decide(client, evaluation(who, what))["decision"] is expected


def test_context_properties_and_unknown_fields_change_nothing(client):
    """C.2.2.3, C.2.2.8, C.2.2.9: optional context, extra properties, unknown fields at any level."""
    extra = {"subject": {**subject(), "properties": {"department": "Sales"}, "x": 1},
             "action": {**action(), "properties": {"method": "GET"}},
             "resource": resource(status="active", owner="bob"),
             "context": {"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"},
             "foo": "bar", "futureField": {"nested": True}}
    assert decide(client, extra)["decision"] is True
    assert decide(client, {**extra, "action": action(WRITE), "subject": subject(BOB)})["decision"] is False


def test_recorded_exactly_as_v1_authorize(client):
    """R7.1: the same entry as POST /v1/authorize, its id in the answer's context; the target is
    resource.properties.target."""
    target = {"type": "port", "id": "port-7"}
    body = {**evaluation(BOB, WRITE), "resource": resource(target=target)}
    answer = decide(client, body)
    v1 = client.post("/v1/authorize", json={"user": BOB, "action": WRITE, "account": RECORD,
                                            "resource": target}, headers=bearer()).json
    by_id = {e["decision_id"]: e for e in decisions(client, user=BOB)}
    ours, theirs = by_id[answer["context"]["decision_id"]], by_id[v1["decision_id"]]
    assert {k: ours[k] for k in SAME} == {k: theirs[k] for k in SAME}
    assert ours["resource"] == target and ours["allowed"] is False
    assert {k: answer["context"].get(k) for k in ("group", "reason", "rule")} == {
        k: v1[k] for k in ("group", "reason", "rule")}


def test_repeats_give_the_same_decision_each_recorded(client):
    """C.2.6 idempotency: the same decision every time; each is a decision of its own (R7.1)."""
    answers = [decide(client, evaluation()) for _ in range(3)]
    assert {a["decision"] for a in answers} == {True}
    assert len({a["context"]["decision_id"] for a in answers}) == 3


def test_unknown_user_or_account_is_a_recorded_deny(client):
    """As /v1/authorize: not an error, a denial with no group."""
    for body in (evaluation("nobody@acme.example"), evaluation(where="no-such-account")):
        answer = decide(client, body)
        assert answer["decision"] is False and "group" not in answer["context"]  # null: left out
        assert answer["context"]["decision_id"]


@pytest.mark.parametrize(("change", "code"), [
    ({"action": action("read")}, "unknown_action"),
    ({"action": action("port.teleport")}, "unknown_action"),
    ({"subject": {"type": "service", "id": ALICE}}, "unknown_subject_type"),
    ({"resource": {"type": "record", "id": "record-1"}}, "unknown_resource_type")])
def test_what_the_policy_cannot_decide_is_a_deny_not_recorded(client, change, code):
    """The specification: an unknown action is a deny (200), not 400; nothing was decided,
    so nothing is recorded and there is no decision_id."""
    before = len(decisions(client))
    answer = decide(client, {**evaluation(), **change})
    assert answer["decision"] is False
    assert answer["context"]["error"]["code"] == code and "decision_id" not in answer["context"]
    assert len(decisions(client)) == before


def test_a_view_session_in_context_binds_the_account(client, app):
    """context.session is a view session (R6.2): another account through it is denied."""
    with store.connection():
        sessions.create("s-ada", ALICE, utcnow().replace(year=utcnow().year + 1))
        sessions.bind("s-ada", RECORD)
    here = decide(client, {**evaluation(), "context": {"session": "s-ada"}})
    there = decide(client, {**evaluation(where="hooli"), "context": {"session": "s-ada"}})
    assert (here["decision"], there["decision"]) == (True, False)
    entry = {e["decision_id"]: e for e in decisions(client)}[here["context"]["decision_id"]]
    assert entry["session"] == "s-ada"


def test_a_value_too_long_to_record_is_422_as_in_v1(client):
    """R7.4: refused before deciding, with the status /v1/authorize gives."""
    response = post(client, "evaluation", evaluation("a" * 300 + "@acme.example"))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"


def test_keys_and_scopes(client, keys):
    """The `decide` scope, as the rest of /v1: 401 without a key, 403 with another scope."""
    missing = client.post("/access/v1/evaluation", json=evaluation())
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")  # the specification's SHOULD
    other = client.post("/access/v1/evaluation", json=evaluation(), headers=bearer(keys["audit"]))
    assert other.status_code == 403
    own = client.post("/access/v1/evaluation", json=evaluation(), headers=bearer(keys["decide"]))
    assert own.status_code == 200 and own.json["decision"] is True
