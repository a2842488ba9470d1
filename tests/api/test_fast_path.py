"""POST /v1/authorize answered outside the framework (api/fast.py) answers as the Flask route does.

The Flask route is the reference: for generated requests, well-formed or not, both give
the same status, body (but for the new decision_id), and headers (R7.1: both record).
"""

import json
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from authz_service.log import chain
from tests.support.auth import BOOTSTRAP

USERS = ["rita@acme.example", "RITA@acme.example", "ian@initech.example", "ada@acme.example",
         "nobody@nowhere.example", ""]
ACTIONS = ["port.view", "port.create", "billing.view", "grant.manage", "customer.list", "no.such_action", ""]
ACCOUNTS = ["initech", "umbrella", "acme", "hooli", "no-such-account", ""]
JUNK = st.one_of(st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _resources():
    text = st.one_of(st.text(max_size=3), st.text(min_size=60, max_size=70), st.text(min_size=195, max_size=205))
    return st.one_of(
        st.none(), JUNK,
        st.fixed_dictionaries({"type": text, "id": text}),
        st.fixed_dictionaries({"type": text}, optional={"id": JUNK, "extra": st.integers()}),
    )


# Mostly well-formed requests (the fast path's own), each part sometimes off in one way.
WELL_FORMED = st.fixed_dictionaries(
    {"user": st.sampled_from(USERS), "action": st.sampled_from(ACTIONS), "account": st.sampled_from(ACCOUNTS)},
    optional={"resource": _resources(), "session": st.text(max_size=8)})
ANY = st.fixed_dictionaries(
    {"user": st.one_of(st.sampled_from(USERS), JUNK), "action": st.one_of(st.sampled_from(ACTIONS), JUNK)},
    optional={"account": st.one_of(st.sampled_from(ACCOUNTS), JUNK), "resource": _resources(),
              "session": st.one_of(st.text(max_size=8), JUNK), "extra": st.integers()})
BODIES = st.one_of(WELL_FORMED, WELL_FORMED, WELL_FORMED, ANY, JUNK, st.text(max_size=5))


def _answer(response) -> tuple:
    body = response.get_json(silent=True)
    if isinstance(body, dict) and "decision_id" in body:
        body = {**body, "decision_id": "new"}
    details = (body or {}).get("error", {}).get("details", {}) if isinstance(body, dict) else {}
    if "decision_id" in details:
        details["decision_id"] = "new"
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("X-Request-Id", "Content-Length"))
    return response.status_code, body, headers


@pytest.fixture
def both(app):
    """(the app as served, with its fast path; the Flask route alone)."""
    return app.test_client(), Client(app.wsgi_app.flask_app)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, key=st.sampled_from(["bootstrap", "decide", "decide", "audit", "wrong", None]),
       content_type=st.sampled_from(["application/json"] * 4 + ["application/json; charset=utf-8", "text/plain"]),
       query=st.sampled_from([""] * 6 + ["?x=1"]))
def test_fast_path_answers_as_the_flask_route(both, keys, body, key, content_type, query):
    """R7.1: the same answer for any request; a decision is recorded on both paths alike."""
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {keys.get(key, BOOTSTRAP) if key != 'wrong' else 'wrong-key'}"
    data = json.dumps(body)
    fast, flask_route = both
    answers = [_answer(c.post("/v1/authorize" + query, data=data, headers=headers)) for c in (fast, flask_route)]
    assert answers[0] == answers[1]


def test_a_plain_request_never_reaches_the_framework(app, keys):
    """The fast path really answers well-formed requests (the Flask route is made to fail)."""
    def refuse(environ, start_response):
        raise AssertionError("the Flask route was used")

    app.wsgi_app.flask_app = refuse
    response = app.test_client().post("/v1/authorize", headers={"Authorization": f"Bearer {keys['decide']}"},
                                      json={"user": "rita@acme.example", "action": "port.create",
                                            "account": "initech"})
    assert response.status_code == 200 and response.json["allowed"] is True
    assert response.headers["X-Request-Id"]


def test_a_request_with_a_bad_body_goes_to_the_framework(app):
    """Anything not plainly well-formed is the Flask route's to answer (and its error shape)."""
    called = []
    inner = app.wsgi_app.flask_app

    def spy(environ, start_response):
        called.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.wsgi_app.flask_app = spy
    response = app.test_client().post("/v1/authorize", headers={"Authorization": f"Bearer {BOOTSTRAP}"},
                                      json={"user": "rita@acme.example", "action": "port.create"})
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed"
    assert called == ["/v1/authorize"]


def test_log_failure_is_503_on_both_paths(both, monkeypatch):
    """Fail closed (R7.1): no answer without its entry; the same 503 and Retry-After on both paths."""
    def fail(entries, activity=None):
        raise chain.LogUnavailable("disk full")

    monkeypatch.setattr(chain, "append", fail)
    body = {"user": "rita@acme.example", "action": "port.create", "account": "initech"}
    answers = [_answer(c.post("/v1/authorize", json=body, headers={"Authorization": f"Bearer {BOOTSTRAP}"}))
               for c in both]
    assert answers[0] == answers[1]
    assert answers[0][0] == 503 and ("Retry-After", "1") in answers[0][2]


BASE = {"user": "rita@acme.example", "action": "port.create", "account": "initech"}
EDGES = [
    BASE, {**BASE, "user": "RITA@ACME.EXAMPLE"}, {**BASE, "resource": None},
    {**BASE, "resource": {"type": "p" * 64, "id": "i" * 200}}, {**BASE, "resource": {"type": "p" * 65, "id": "i"}},
    {**BASE, "resource": {"type": "p", "id": "i" * 201}}, {**BASE, "resource": {"type": "p"}},
    {**BASE, "resource": {"type": "p", "id": "i", "x": 1}}, {**BASE, "resource": "port"},
    {**BASE, "account": None}, {**BASE, "account": ""}, {**BASE, "account": 7}, {**BASE, "session": "s-1"},
    {"user": "rita@acme.example", "action": "port.create", "session": "s-1"},
    {"user": "rita@acme.example", "action": "port.create"}, {**BASE, "action": "no.such_action"},
    {**BASE, "action": ""}, {**BASE, "user": ""}, {**BASE, "user": None}, {**BASE, "extra": 1}, [BASE], "x", None,
    {**BASE, "session": "\x00"}, {**BASE, "user": "rita\x00@acme.example"}, {**BASE, "resource": {"type": "p", "id": "\x00"}},
]


@pytest.mark.parametrize("body", EDGES, ids=range(len(EDGES)))
def test_edge_bodies_answer_as_the_flask_route(both, body):
    """Boundaries of the shape (schemas.AuthorizeIn): the same status and body on both paths."""
    headers = {"Authorization": f"Bearer {BOOTSTRAP}", "Content-Type": "application/json"}
    fast, flask_route = both
    answers = [_answer(c.post("/v1/authorize", data=json.dumps(body), headers=headers)) for c in (fast, flask_route)]
    assert answers[0] == answers[1]


def test_nul_in_any_text_is_422_and_records_nothing(client):
    """No store keeps U+0000 (PostgreSQL refuses it): the same 422 on every backend, no entry (R7.1)."""
    headers = {"Authorization": f"Bearer {BOOTSTRAP}"}
    before = client.get("/v1/decisions?limit=200", headers=headers).json["items"]
    response = client.post("/v1/authorize", headers=headers, json={**BASE, "session": "\x00"})
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid"
    assert client.get("/v1/decisions?limit=200&user=x%00", headers=headers).status_code == 422
    assert client.get("/v1/decisions?limit=200", headers=headers).json["items"] == before


# AuthZEN evaluation and evaluations (api/authzen_fast.py): the same comparison, the Flask
# routes of api/authzen.py being the reference; X-Request-ID echoed alike (docs/api.md).
def _text_near(limit: int):
    return st.one_of(st.text(max_size=3), st.text(min_size=limit - 1, max_size=limit + 1))


PROPERTIES = st.one_of(st.none(), JUNK, st.dictionaries(st.sampled_from(["roles", "kind", "x"]), JUNK, max_size=2))
TARGETS = st.one_of(st.none(), JUNK, st.fixed_dictionaries({"type": _text_near(64), "id": _text_near(200)}),
                    st.fixed_dictionaries({"type": st.text(max_size=3)}, optional={"id": JUNK, "x": st.integers()}))
SUBJECTS = st.one_of(JUNK, st.fixed_dictionaries(
    {"type": st.sampled_from(["user", "user", "user", "group"]), "id": st.one_of(st.sampled_from(USERS), JUNK)},
    optional={"properties": PROPERTIES, "x": st.integers()}))
AUTHZEN_ACTIONS = st.one_of(JUNK, st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(ACTIONS), JUNK)}, optional={"properties": PROPERTIES}))
RESOURCES = st.one_of(JUNK, st.fixed_dictionaries(
    {"type": st.sampled_from(["account", "account", "account", "document"]),
     "id": st.one_of(st.sampled_from(ACCOUNTS), JUNK)},
    optional={"properties": st.one_of(PROPERTIES, st.fixed_dictionaries({"target": TARGETS}))}))
CONTEXTS = st.one_of(st.none(), JUNK, st.fixed_dictionaries({}, optional={"session": st.one_of(
    st.none(), st.text(max_size=4), JUNK), "x": JUNK}))
ENTITIES = {"subject": SUBJECTS, "action": AUTHZEN_ACTIONS, "resource": RESOURCES}
PLAIN_TARGET = st.fixed_dictionaries({"type": _text_near(64), "id": _text_near(200)})
PLAIN = st.fixed_dictionaries(  # mostly well-formed: the fast path's own
    {"subject": st.fixed_dictionaries({"type": st.just("user"), "id": st.sampled_from(USERS)}),
     "action": st.fixed_dictionaries({"name": st.sampled_from(ACTIONS)}),
     "resource": st.fixed_dictionaries({"type": st.just("account"), "id": st.sampled_from(ACCOUNTS)}, optional={
         "properties": st.fixed_dictionaries({}, optional={"target": st.one_of(PLAIN_TARGET, TARGETS)})})},
    optional={"context": st.fixed_dictionaries({}, optional={"session": st.one_of(st.none(), st.text(max_size=4))})})
EVALUATION = st.one_of(
    PLAIN, PLAIN, PLAIN, PLAIN, st.fixed_dictionaries(ENTITIES, optional={"context": CONTEXTS, "x": JUNK}),
    st.fixed_dictionaries({}, optional={**ENTITIES, "context": CONTEXTS}), JUNK)
OPTIONS = st.one_of(st.none(), JUNK, st.fixed_dictionaries({}, optional={"evaluations_semantic": st.one_of(
    st.sampled_from(["execute_all", "deny_on_first_deny", "permit_on_first_permit", "all"]), JUNK)}))
EVALUATIONS = st.fixed_dictionaries({}, optional={
    **ENTITIES, "context": CONTEXTS, "options": OPTIONS,
    "evaluations": st.one_of(st.none(), JUNK, st.lists(EVALUATION, max_size=4))})


def _decision_ids_as_new(value):
    if isinstance(value, dict):
        return {k: "new" if k == "decision_id" else _decision_ids_as_new(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decision_ids_as_new(v) for v in value]
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["evaluation", "evaluations"]), data=st.data(),
       key=st.sampled_from(["bootstrap"] + ["decide"] * 5 + ["audit", "wrong", None]),
       request_id=st.sampled_from([None, None, "r-1", "with space", "x" * 200]),
       query=st.sampled_from([""] * 8 + ["?x=1"]))
def test_authzen_fast_path_answers_as_the_flask_routes(both, keys, path, data, key, request_id, query):
    """R7.1: the same status, body, headers and echoed X-Request-ID for any AuthZEN request."""
    body = data.draw(EVALUATION if path == "evaluation" else st.one_of(EVALUATIONS, EVALUATIONS, EVALUATION))
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {keys.get(key, BOOTSTRAP) if key != 'wrong' else 'wrong-key'}"
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    answers = []
    for client in both:
        response = client.post(f"/access/v1/{path}{query}", data=json.dumps(body), headers=headers)
        status, answer, rest = _answer(response)
        echoed = response.headers["X-Request-Id"]
        answers.append((status, _decision_ids_as_new(answer), rest, echoed if echoed == request_id else "new"))
    assert answers[0] == answers[1]


def test_plain_authzen_requests_never_reach_the_framework(app, keys):
    """The fast path really answers well-formed evaluation and evaluations requests."""
    def refuse(environ, start_response):
        raise AssertionError("the Flask route was used")

    app.wsgi_app.flask_app = refuse
    client, headers = app.test_client(), {"Authorization": f"Bearer {keys['decide']}", "X-Request-ID": "r 1"}
    one = {"subject": {"type": "user", "id": "rita@acme.example"}, "action": {"name": "port.create"},
           "resource": {"type": "account", "id": "initech"}}
    response = client.post("/access/v1/evaluation", headers=headers, json=one)
    assert response.status_code == 200 and response.json["decision"] is True
    assert response.headers["X-Request-Id"] == "r 1"
    many = {"subject": one["subject"], "evaluations": [{k: one[k] for k in ("action", "resource")}, "junk"]}
    response = client.post("/access/v1/evaluations", headers=headers, json=many)
    assert response.status_code == 200
    assert [e["decision"] for e in response.json["evaluations"]] == [True, False]


ONE = {"subject": {"type": "user", "id": "rita@acme.example"}, "action": {"name": "port.create"},
       "resource": {"type": "account", "id": "initech"}}


def _with(key: str, **changes) -> dict:
    return {**ONE, key: {**ONE[key], **changes}}


def _target(target) -> dict:
    return _with("resource", properties={"target": target})


AUTHZEN_EDGES = [
    ONE, _target({"type": "p" * 64, "id": "i" * 200}), _target({"type": "p" * 65, "id": "i"}),
    _target({"type": "p", "id": "i" * 201}), _target({"type": "p"}), _target({"type": "p", "id": "i", "x": 1}),
    _target(None), _target("port"), _with("resource", properties=None), _with("resource", properties=[]),
    _with("resource", properties={"kind": "customer"}), _with("subject", properties=None),
    _with("subject", properties=[1]), _with("action", properties=None), _with("action", properties="x"),
    _with("subject", type="group"), _with("resource", type="document"), _with("action", name="no.such"),
    _with("subject", id=7), _with("resource", id=None), {**ONE, "context": None}, {**ONE, "context": {}},
    {**ONE, "context": {"session": None}}, {**ONE, "context": {"session": 7}}, {**ONE, "context": []},
    {**ONE, "context": {"session": "s-1"}}, {**ONE, "subject": None}, {k: ONE[k] for k in ("action", "resource")},
    {**ONE, "x": 1}, _with("subject", id="r" * 300), _with("subject", id="rita\x00@acme.example"), [ONE], None,
]
MANY = [
    {"evaluations": [ONE]}, {"evaluations": []}, {"evaluations": None}, {**ONE, "evaluations": []},
    {**ONE, "evaluations": None}, {"subject": ONE["subject"], "evaluations": []}, {"evaluations": {}},
    {"evaluations": [ONE, None, 1, {}, _target({"type": "p" * 65, "id": "i"}), {"subject": None}]},
    {"subject": ONE["subject"], "context": None, "evaluations": [{k: ONE[k] for k in ("action", "resource")}]},
    {**ONE, "evaluations": [{"action": {"name": "port.view"}}, {"context": {"session": 7}}]},
    {"subject": None, "evaluations": [ONE]}, {"context": [], "evaluations": [ONE]},
    *({"options": options, "evaluations": [ONE, _with("action", name="grant.manage"), ONE]} for options in (
        None, {}, [], *({"evaluations_semantic": s} for s in ("deny_on_first_deny", "permit_on_first_permit",
                                                                "execute_all", "all", None, 1)))),
    {"evaluations": [ONE] * 1001}, {"evaluations": [ONE] * 3, "options": {"x": 1}},
]


@pytest.mark.parametrize("path,body", [("evaluation", b) for b in AUTHZEN_EDGES] + [("evaluations", b) for b in MANY]
                         + [("evaluations", b) for b in AUTHZEN_EDGES], ids=count())
def test_authzen_edge_bodies_answer_as_the_flask_routes(both, path, body):
    """Boundaries of the AuthZEN shapes (api/authzen_schemas.py): the same answer on both paths."""
    headers = {"Authorization": f"Bearer {BOOTSTRAP}", "Content-Type": "application/json", "X-Request-ID": "e 1"}
    answers = []
    for client in both:
        response = client.post(f"/access/v1/{path}", data=json.dumps(body), headers=headers)
        status, answer, rest = _answer(response)
        answers.append((status, _decision_ids_as_new(answer), rest, response.headers["X-Request-Id"]))
    assert answers[0] == answers[1]
