"""The AuthZEN endpoints' 400-versus-deny split and headers: the certification scenario's
error handling (C.2.4, C.4.7) and transport (C.2.5, C.5) on our domain."""

import pytest

from tests.support.auth import bearer
from tests.support.authzen import RECORD, action, evaluation, post, resource, subject

WHOLE = evaluation()
MISSING = [
    {"action": action(), "resource": resource()},
    {"subject": subject(), "resource": resource()},
    {"subject": subject(), "action": action()},
    {**WHOLE, "subject": {"id": "ada@acme.example"}},
    {**WHOLE, "subject": {"type": "user"}},
    {**WHOLE, "action": {}},
    {**WHOLE, "resource": {"id": RECORD}},
    {**WHOLE, "resource": {"type": "account"}},
    {**WHOLE, "subject": None},
]
WRONG_TYPES = [
    {**WHOLE, "subject": "ada@acme.example"},
    {**WHOLE, "action": {"name": 123}},
    {**WHOLE, "resource": {"type": "account", "id": 7}},
    {**WHOLE, "subject": {"type": ["user"], "id": "ada@acme.example"}},
    {**WHOLE, "action": "port.view"},
    {**WHOLE, "context": "now"},
    {**WHOLE, "context": {"session": 5}},
    {**WHOLE, "subject": {**subject(), "properties": "x"}},
    {**WHOLE, "resource": resource(target="port-7")},
    {**WHOLE, "resource": resource(target={"type": "port"})},
]


@pytest.mark.parametrize("body", MISSING + WRONG_TYPES)
def test_missing_or_mistyped_fields_are_400_in_our_shape(client, body):
    """C.2.4.1, C.2.4.2, C.2.4.6: a missing entity, type, id or name, or a wrong JSON type."""
    for path in ("evaluation", "evaluations"):
        response = post(client, path, body)
        assert response.status_code == 400, (path, response.json)
        assert response.json["error"]["code"] == "malformed"


@pytest.mark.parametrize(("data", "content_type"), [
    ('{"subject": {"type": "user", "id": "ada@acme.example"}', "application/json"),
    ("", "application/json"),
    ("", None),
    ("[]", "application/json"),
    ('"evaluation"', "application/json"),
    ('{"subject": {"type": "user", "id": "ada@acme.example"}, "action": {"name": "port.view"}, '
     '"resource": {"type": "account", "id": "initech"}}', "text/plain"),
    ("subject=ada", "application/x-www-form-urlencoded"),
])
def test_bodies_that_are_not_one_json_object_are_400(client, data, content_type):
    """C.2.4.3-C.2.4.5: malformed JSON, an empty body, another content type."""
    for path in ("evaluation", "evaluations", "search/subject", "search/resource", "search/action"):
        headers = {"Content-Type": content_type} if content_type else {}
        response = post(client, path, data=data, headers=headers)
        assert response.status_code == 400, (path, response.json)
        assert "error" in response.json


@pytest.mark.parametrize("given", ["bfe9eb29-ab87-4ca3-be83-a1d5d8305716", "req 42: retry #3", "é"])
def test_x_request_id_is_echoed_as_sent(client, given):
    """C.2.5.1: the same value on every AuthZEN answer, errors and discovery included."""
    answers = [
        post(client, "evaluation", evaluation(), headers={"X-Request-ID": given}),
        post(client, "evaluation", {"action": action()}, headers={"X-Request-ID": given}),
        post(client, "evaluations", {"evaluations": [{}]}, headers={"X-Request-ID": given}),
        post(client, "search/action", {"subject": subject(), "resource": resource()},
             headers={"X-Request-ID": given}),
        client.post("/access/v1/evaluation", json=evaluation(), headers={"X-Request-ID": given}),
        client.get("/.well-known/authzen-configuration", headers={"X-Request-ID": given}),
        client.get("/access/v1/evaluation", headers={"X-Request-ID": given, **bearer()}),
    ]
    assert [a.headers.get("X-Request-ID") for a in answers] == [given] * len(answers)
    assert [a.status_code for a in answers] == [200, 400, 200, 200, 401, 200, 405]


def test_without_x_request_id_the_answer_still_has_one(client):
    """C.2.5.2: no header, no failure; the service names the request itself."""
    response = post(client, "evaluation", evaluation())
    assert response.status_code == 200 and response.headers.get("X-Request-ID")


def test_answers_are_json(client):
    """C.5.2: 200 with Content-Type application/json, for evaluations and searches."""
    for path, body in [("evaluation", evaluation()), ("evaluations", evaluation()),
                       ("search/action", {"subject": subject(), "resource": resource()})]:
        response = post(client, path, body)
        assert response.status_code == 200 and response.mimetype == "application/json"


@pytest.mark.parametrize("given", ["a\x01b", "a\x7fb", "a\x1bb"])
def test_an_x_request_id_no_header_may_carry_is_replaced_not_fatal(client, given):
    """A control character cannot be a header value: the answer names the request itself."""
    response = client.get("/.well-known/authzen-configuration", headers={"X-Request-ID": given})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] not in ("", given)
