"""A plain decision request served inline is given to api/fast.py's FastAuthorize.answer with its
own header fields, without a WSGI environ (serving/inline.py, docs/decisions/053). Its answer is
the one the WSGI call gives the same request: the same status line, header fields in the same
order, the same body but for the decision's own ids (R7.1: each recorded once, either way)."""

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service.serving import plain_http
from tests.support.auth import BOOTSTRAP
from tests.support.inline_worker import Conn, worker

EVALUATION = {"subject": {"type": "user", "id": "rita@acme.example"}, "action": {"name": "port.view"},
              "resource": {"type": "account", "id": "initech"}}
BODIES = {
    "/v1/authorize": [{"user": "rita@acme.example", "action": "port.view", "account": "initech"},
                      {"user": "rita@acme.example", "action": "no.such", "account": "initech"}, {"user": 7}],
    "/access/v1/evaluation": [EVALUATION, {"subject": {"type": "user"}}],
    "/access/v1/evaluations": [{**EVALUATION, "evaluations": [{"action": {"name": "port.delete"}}] * 2},
                               {"evaluations": "no"}],
}
RAW = st.sampled_from([b"", b"{", b"[]", b'"\\u0000"', b"\xff"])
CONTENT_TYPES = [["application/json"], ["application/json; charset=utf-8"], ["APPLICATION/JSON"], ["text/plain"],
                 [], ["application/json", "application/json"], ["text/plain", "application/json"]]
KEYS = [[f"Bearer {BOOTSTRAP}"], ["Bearer wrong"], [], [f"Bearer {BOOTSTRAP}", f"Bearer {BOOTSTRAP}"], ["Basic x"]]
REQUEST_IDS = [[], ["req-1"], ["two words"], [""], ["x" * 300], ["caf\u00e9"], ["a", "b"], ["\tpadded"]]


@st.composite
def requests(draw) -> plain_http.Plain:
    path = draw(st.sampled_from(sorted(BODIES)))
    body = draw(st.sampled_from(BODIES[path]).map(lambda v: json.dumps(v).encode()) | RAW)
    fields = [("Host", "t")]
    for name, choices in (("Content-Type", CONTENT_TYPES), ("Authorization", KEYS), ("X-Request-Id", REQUEST_IDS)):
        fields += [(draw(st.sampled_from([name, name.lower(), name.upper()])), value)
                   for value in draw(st.sampled_from(choices))]
    return plain_http.Plain(path, draw(st.permutations(fields)), body)


def served(one, request: plain_http.Plain) -> bytes:
    conn = Conn()
    one._serve(conn, request)
    return conn.sock.sent


def steady(raw: bytes, given: set[str]) -> tuple:
    """The answer without the clock's Date, the decision's own ids, and a request id the service
    made (one the caller gave must come back as it was)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for name, _, value in (line.partition(": ") for line in lines[1:]):
        if name == "X-Request-Id" and value not in given:
            value = "made"
        if name not in ("Date", "Content-Length"):
            fields.append((name, value))
    text = re.sub(rb'"(decision_id|id)":"[^"]*"', rb'"\1":"new"', body)
    return lines[0], fields, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests())
def test_a_direct_answer_is_the_wsgi_calls(app, request):
    direct, through_wsgi = worker(app, app.wsgi_app.answer), worker(app)
    given_ids = {value for name, value in request.headers if name.lower() == "x-request-id"}
    got, expected = served(direct, request), served(through_wsgi, request)
    assert steady(got, given_ids) == steady(expected, given_ids)
    assert got.startswith(b"HTTP/1.1 ") and b"500" not in got.split(b"\r\n", 1)[0]


def test_the_direct_way_is_taken(app, monkeypatch):
    """A plain request with single fields does not build an environ; one whose field repeats does."""
    built: list = []
    original = plain_http.environ_for
    monkeypatch.setattr("authz_service.serving.inline.environ_for", lambda *a: built.append(1) or original(*a))
    one = worker(app, app.wsgi_app.answer)
    body = json.dumps(EVALUATION).encode()
    single = [("Content-Type", "application/json"), ("Authorization", f"Bearer {BOOTSTRAP}")]
    assert b" 200 OK" in served(one, plain_http.Plain("/access/v1/evaluation", single, body))[:20]
    assert built == []
    served(one, plain_http.Plain("/access/v1/evaluation", [*single, ("X-Request-Id", "a"), ("x-request-id", "b")], body))
    assert built == [1]
