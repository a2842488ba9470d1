"""authz_client's AuthZEN calls: what they send, what they read, and that any error denies."""

import json

import pytest
from authz_client import FAIL_CLOSED_RULE, AuthzClient

from tests.support.server import free_port
from tests.support.stub import Stub

ADA = "ada@acme.example"
EVALUATION, EVALUATIONS = "/access/v1/evaluation", "/access/v1/evaluations"
ALLOW = {"decision": True, "context": {"decision_id": "d-1", "group": "admin", "reason": "ok",
                                       "rule": "policies/services.csv:9"}}
DENY = {"decision": False, "context": {"decision_id": "d-2", "group": None, "reason": "no", "rule": "r"}}
UNDECIDED = {"decision": False, "context": {"error": {"code": "unknown_action", "message": "?"}}}


def client_of(stub: Stub) -> AuthzClient:
    return AuthzClient(stub.url, "key", timeout=5, retries=1, backoff=0.001)


def sent(stub: Stub) -> dict:
    return json.loads(stub.requests[-1][2])


def test_evaluate_sends_the_mapping_and_reads_the_decision():
    """subject user, action name, resource account with its target, context.session."""
    with Stub(answers={EVALUATION: ALLOW}) as stub:
        decision = client_of(stub).evaluate(ADA, "port.view", "initech",
                                            target={"type": "port", "id": "p-1"}, session="s-1")
        assert decision and decision.decision_id == "d-1" and decision.group == "admin"
        assert decision.rule == "policies/services.csv:9"
        assert sent(stub) == {"subject": {"type": "user", "id": ADA}, "action": {"name": "port.view"},
                              "resource": {"type": "account", "id": "initech",
                                           "properties": {"target": {"type": "port", "id": "p-1"}}},
                              "context": {"session": "s-1"}}


@pytest.mark.parametrize(("status", "answer"), [
    (503, ALLOW), (500, ALLOW), (400, ALLOW), (401, ALLOW), (403, ALLOW),
    (200, {"items": []}), (200, {"decision": "yes"}), (200, UNDECIDED), (200, DENY)])
def test_evaluate_denies_on_any_error(status, answer):
    """Fail closed: no answer, a refusal, or an answer that is not a decision is a denial,
    never an exception; a deny stays a deny."""
    with Stub(lambda *_: status, answers={EVALUATION: answer}) as stub:
        decision = client_of(stub).evaluate(ADA, "port.view", "initech")
        assert not decision
        if answer is not DENY:
            assert decision.rule == FAIL_CLOSED_RULE and decision.decision_id is None


def test_evaluate_denies_when_nothing_listens():
    client = AuthzClient(f"http://127.0.0.1:{free_port()}", "key", timeout=1, retries=0)
    decision = client.evaluate(ADA, "port.view", "initech")
    assert not decision and decision.rule == FAIL_CLOSED_RULE


def test_evaluations_send_defaults_and_keep_order():
    """The user as the default subject, one item per check (its own user when given)."""
    with Stub(answers={EVALUATIONS: {"evaluations": [ALLOW, DENY, UNDECIDED]}}) as stub:
        checks = [{"action": "port.view", "account": "initech"},
                  {"action": "port.create", "account": "hooli", "target": {"type": "port", "id": "p"}},
                  {"action": "port.teleport", "account": "hooli", "user": "sam@acme.example"}]
        found = client_of(stub).evaluations(ADA, checks, session="s-1")
        assert [bool(d) for d in found] == [True, False, False]
        assert [d.decision_id for d in found] == ["d-1", "d-2", None]
        body = sent(stub)
        assert body["subject"] == {"type": "user", "id": ADA}
        assert body["options"] == {"evaluations_semantic": "execute_all"}
        assert body["context"] == {"session": "s-1"}
        assert [e.get("subject") for e in body["evaluations"]] == [
            None, None, {"type": "user", "id": "sam@acme.example"}]
        assert body["evaluations"][1]["resource"]["properties"] == {"target": {"type": "port", "id": "p"}}


def test_short_circuits_may_answer_fewer():
    with Stub(answers={EVALUATIONS: {"evaluations": [DENY]}}) as stub:
        checks = [{"action": "port.view", "account": a} for a in ("soylent", "initech")]
        found = client_of(stub).evaluations(ADA, checks, semantic="deny_on_first_deny")
        assert [bool(d) for d in found] == [False] and found[0].decision_id == "d-2"
        assert sent(stub)["options"] == {"evaluations_semantic": "deny_on_first_deny"}


@pytest.mark.parametrize(("status", "answer"), [
    (503, {"evaluations": [ALLOW, ALLOW]}), (422, {"evaluations": [ALLOW, ALLOW]}),
    (200, {"evaluations": [ALLOW]}), (200, {"evaluations": [ALLOW, ALLOW, ALLOW]}),
    (200, {"evaluations": [ALLOW, "yes"]}), (200, {"decision": True}), (200, [ALLOW, ALLOW])])
def test_evaluations_deny_every_check_on_any_error(status, answer):
    """A failure, or an answer with another number of decisions under execute_all, denies all."""
    with Stub(lambda *_: status, answers={EVALUATIONS: answer}) as stub:
        checks = [{"action": "port.view", "account": "initech"}] * 2
        found = client_of(stub).evaluations(ADA, checks)
        assert [(bool(d), d.rule) for d in found] == [(False, FAIL_CLOSED_RULE)] * 2


def test_no_checks_no_call():
    with Stub() as stub:
        assert client_of(stub).evaluations(ADA, []) == []
        assert stub.requests == []
