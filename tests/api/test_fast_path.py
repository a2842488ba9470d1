"""POST /v1/authorize answered outside the framework (api/fast.py) answers as the Flask route does.

The Flask route is the reference: for generated requests, well-formed or not, both give
the same status, body (but for the new decision_id), and headers (R7.1: both record).
"""

import json

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
