"""POST /access/v1/evaluations: the certification scenario's Batch level on our domain
(defaults, order and length, the three semantics, errors per item; docs/api.md "AuthZEN 1.0")."""

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


def run(client, body) -> list[dict]:
    response = post(client, "evaluations", body)
    assert response.status_code == 200, response.json
    assert "decision" not in response.json  # C.3.3.4: omitted beside evaluations
    answers = response.json["evaluations"]
    assert all(isinstance(a["decision"], bool) and isinstance(a.get("context", {}), dict)
               for a in answers)
    return answers


def verdicts(answers) -> list[bool]:
    return [a["decision"] for a in answers]


def test_defaults_fill_each_evaluation_in_order(client):
    """C.3.2.1, C.3.2.2: top-level defaults; answers in the request's order."""
    body = {"subject": subject(BOB), "resource": resource(),
            "evaluations": [{"action": action(READ)}, {"action": action(WRITE)}]}
    assert verdicts(run(client, body)) == [True, False]
    body = {"subject": subject(BOB), "resource": resource(),
            "evaluations": [{"action": action(WRITE)}, {"action": action(READ)}]}
    assert verdicts(run(client, body)) == [False, True]


def test_fully_specified_evaluations_need_no_defaults(client):
    """C.3.2.5."""
    body = {"evaluations": [evaluation(ALICE, READ), evaluation(BOB, WRITE)]}
    assert verdicts(run(client, body)) == [True, False]


def test_an_entity_given_replaces_its_default_whole(client):
    """C.3.2.7: no merging inside an entity: the second evaluation's resource has no target."""
    body = {**evaluation(ALICE, WRITE), "evaluations": [{}, {"resource": resource("hooli")}]}
    body["resource"] = resource(target={"type": "port", "id": "port-1"})
    answers = run(client, body)
    assert verdicts(answers) == [True, True]
    by_id = {e["decision_id"]: e for e in decisions(client)}
    first, second = (by_id[a["context"]["decision_id"]] for a in answers)
    assert (first["account"], first["resource"]) == (RECORD, {"type": "port", "id": "port-1"})
    assert (second["account"], second["resource"]) == ("hooli", None)


def test_context_is_a_default_too_and_an_evaluation_may_replace_it(client):
    """C.3.2.6: the top-level context.session applies unless an evaluation brings its own."""
    with store.connection():
        sessions.create("s-ada", ALICE, utcnow().replace(year=utcnow().year + 1))
        sessions.bind("s-ada", RECORD)
    body = {"subject": subject(), "action": action(), "context": {"session": "s-ada"},
            "evaluations": [{"resource": resource()}, {"resource": resource("hooli")},
                            {"resource": resource("hooli"), "context": {"source": "override"}}]}
    assert verdicts(run(client, body)) == [True, False, True]  # R6.2 through the session


def test_every_decided_evaluation_is_recorded_once(client):
    """R7.1: one entry per decided evaluation, each answer naming its own."""
    before = len(decisions(client))
    answers = run(client, {"subject": subject(), "action": action(),
                           "evaluations": [{"resource": resource(a)} for a in
                                           ("initech", "hooli", "umbrella", "soylent")]})
    assert verdicts(answers) == [True, True, True, False]
    recorded = decisions(client)
    assert len(recorded) == before + 4
    assert len({a["context"]["decision_id"] for a in answers}) == 4
    ours = [d for d in recorded if d["decision_id"] in {a["context"]["decision_id"] for a in answers}]
    assert len({d["at"] for d in ours}) == 1  # R7.1: one call, decided at one time, as /v1/authorize/batch


@pytest.mark.parametrize("bad", [
    {}, 5, "x", None, {"resource": "initech"}, {"resource": {"type": "account"}},
    {"action": {"name": 1}}, {"context": {"session": []}},
    {"action": action("port.teleport")}, {"subject": {"type": "robot", "id": "r2"}},
    {"subject": subject("a" * 300 + "@acme.example")},
])
def test_an_item_that_cannot_be_decided_is_a_deny_with_an_error(client, bad):
    """C.3.4.1 (execute_all): length and order kept, the failed item false with context.error,
    the others decided; never a 500. The default semantic is execute_all."""
    before = len(decisions(client))
    body = {"subject": subject(), "action": action(),
            "evaluations": [{"resource": resource()}, bad, {"resource": resource("hooli")}]}
    for options in ({}, {"options": {"evaluations_semantic": "execute_all"}}):
        answers = run(client, {**body, **options})
        assert verdicts(answers) == [True, False, True]
        assert answers[1]["context"]["error"]["code"]
        assert "decision_id" not in answers[1]["context"]
    assert len(decisions(client)) == before + 4


def test_item_errors_say_what_a_lone_request_would_have_got(client):
    """context.error.status: 400 for a missing or mistyped field, 422 for a value too long."""
    body = {"subject": subject(), "action": action(),
            "evaluations": [{}, {"resource": resource(), "subject": subject("a" * 300 + "@x.example")}]}
    errors = [a["context"]["error"] for a in run(client, body)]
    assert [(e["code"], e["status"]) for e in errors] == [("malformed", 400), ("invalid", 422)]
    assert errors[0]["fields"] == {"resource": ["Missing data for required field."]}


def test_values_that_fit_are_not_taken_as_fitting_for_another_item(client):
    """R7.4 in a run: what one item's user and session were found to fit (kept for the run, not
    checked again) says nothing of another item's session, user or account: each is refused."""
    long_session, long_user = "s" * 300, "a" * 300 + "@acme.example"
    body = {"subject": subject(), "action": action(), "resource": resource(),
            "evaluations": [{}, {"context": {"session": long_session}}, {"subject": subject(long_user)},
                            {"resource": resource("x" * 300)}, {}]}
    answers = run(client, body)
    assert verdicts(answers) == [True, False, False, False, True]
    assert [a["context"]["error"]["status"] for a in answers[1:4]] == [422, 422, 422]


SEQUENCE = [("initech", True), ("soylent", False), ("hooli", True), ("soylent", False)]


@pytest.mark.parametrize(("semantic", "expected"), [
    ("execute_all", [True, False, True, False]),
    ("deny_on_first_deny", [True, False]),
    ("permit_on_first_permit", [True]),
])
def test_the_three_semantics(client, semantic, expected):
    """execute_all answers every one; the short-circuits stop after the first deny or permit,
    and only what was evaluated is recorded."""
    before = len(decisions(client))
    body = {"subject": subject(), "action": action(), "options": {"evaluations_semantic": semantic},
            "evaluations": [{"resource": resource(a)} for a, _ in SEQUENCE]}
    assert verdicts(run(client, body)) == expected
    assert len(decisions(client)) == before + len(expected)


def test_an_error_counts_as_a_deny_for_deny_on_first_deny_and_not_as_a_permit(client):
    """The specification: "any denial (error, or decision false)" short-circuits."""
    items = [{"resource": resource()}, {}, {"resource": resource("hooli")}]
    for semantic, expected in [("deny_on_first_deny", [True, False]),
                               ("permit_on_first_permit", [True])]:
        body = {"subject": subject(), "action": action(), "evaluations": items,
                "options": {"evaluations_semantic": semantic}}
        assert verdicts(run(client, body)) == expected
    body = {"subject": subject(), "action": action(), "evaluations": [{}, items[0]],
            "options": {"evaluations_semantic": "permit_on_first_permit"}}
    assert verdicts(run(client, body)) == [False, True]


@pytest.mark.parametrize("evaluations", [None, []])
def test_without_evaluations_the_top_level_is_one_evaluation(client, evaluations):
    """C.3.4.2, C.3.4.3: the /evaluation answer, and its 400 for a missing entity."""
    body = {**evaluation(), **({} if evaluations is None else {"evaluations": evaluations})}
    response = post(client, "evaluations", body)
    assert response.status_code == 200
    assert response.json["decision"] is True and response.json["context"]["decision_id"]
    assert "evaluations" not in response.json
    assert post(client, "evaluations", {**body, "subject": None}).status_code == 400
    del body["subject"]
    assert post(client, "evaluations", body).status_code == 400


def test_limits_and_options(client):
    """At most 1000 evaluations (422 beyond, as /v1's batch); an unknown semantic is 422;
    a malformed default is 400 even when every item brings its own."""
    thousand = {"subject": subject(), "action": action(), "evaluations": [{"resource": resource()}] * 1000}
    assert len(run(client, thousand)) == 1000
    over = {**thousand, "evaluations": thousand["evaluations"] + [{"resource": resource()}]}
    assert post(client, "evaluations", over).status_code == 422
    odd = {**evaluation(), "evaluations": [{}], "options": {"evaluations_semantic": "first"}}
    assert post(client, "evaluations", odd).status_code == 422
    for bad in ({"options": "all"}, {"evaluations": {"0": {}}}, {"subject": {"type": "user"}}):
        body = {"evaluations": [evaluation()], **bad}
        assert post(client, "evaluations", body).status_code == 400, bad


def test_a_grid_answers_as_v1_batch_does(client):
    """Every decided evaluation gives what /v1/authorize/batch gives for the same check, in order."""
    grid = [(what, where) for what in (READ, WRITE, "billing.view", "grant.manage", "user.manage")
            for where in ("acme", "initech", "umbrella", "hooli", "soylent", "nowhere")]
    user = "rita@acme.example"
    answers = run(client, {"subject": subject(user), "evaluations": [
        {"action": action(what), "resource": resource(where)} for what, where in grid]})
    batch = client.post("/v1/authorize/batch", headers=bearer(), json={"user": user, "checks": [
        {"action": what, "account": where} for what, where in grid]}).json["results"]
    assert [(a["decision"], a["context"].get("group"), a["context"]["rule"]) for a in answers] == [
        (r["allowed"], r["group"], r["rule"]) for r in batch]


def test_a_session_is_kept_for_the_run_under_its_own_name_whatever_it_is(client):
    """A run keeps each session it has read (decide_each) beside what else it keeps: a session
    named "fit", one that does not exist and no session are each decided as a lone evaluation
    naming the same session is (R6.2)."""
    with store.connection():
        sessions.create("fit", ALICE, utcnow().replace(year=utcnow().year + 1))
        sessions.bind("fit", RECORD)
    items = [{"resource": resource(account), **({"context": {"session": name}} if name else {})}
             for name in ("fit", "no-such-session", None, "fit") for account in (RECORD, "hooli")]
    together = verdicts(run(client, {"subject": subject(), "action": action(), "evaluations": items}))
    alone = [post(client, "evaluation", {"subject": subject(), "action": action(), **item}).json["decision"]
             for item in items]
    assert together == alone
    assert together[:2] == [True, False]  # bound to RECORD: R6.2 allows there alone


def test_a_run_reads_each_session_once_even_one_that_does_not_exist(client, monkeypatch):
    """decide_each reads a session once for the whole run, a missing one included (not once an item)."""
    from authz_service.decide import authorize

    asked = []
    real = authorize.load_session
    monkeypatch.setattr(authorize, "load_session", lambda name: asked.append(name) or real(name))
    items = [{"resource": resource(account)} for account in (RECORD, "hooli", "initech")] * 10
    body = {"subject": subject(), "action": action(), "context": {"session": "no-such-session"},
            "evaluations": items}
    assert len(run(client, body)) == 30
    assert asked == ["no-such-session"]
