"""One error translation (docs/decisions/024-one-way-in.md): api/error_table.py maps every exception the
layers below raise to the contract's answer; the app's handlers, the fast path and the console read it,
and no view catches one of its kinds to answer by itself."""

import ast
import json
from pathlib import Path

import pytest

from authz_service import cursors, usernames
from authz_service.api import error_table, errors, fast
from authz_service.decide import authorize
from authz_service.log import chain
from authz_service.portal import access_requests, service_events
from authz_service.serving import http_errors
from authz_service.store import Conflict, DatabaseError, IntegrityError, NotFound, Unconfirmed

API = Path(__file__).resolve().parents[2] / "authz_service" / "api"
DENIED = {"reason": "no", "decision_id": "d1", "rule": "r", "group": None}
CASES = [  # exception -> (status, code, details) as docs/api.md answers it
    (usernames.InvalidUserName("A\u200b@x", "invisible"), 422, "invalid_email", {"reason": "invisible"}),
    (NotFound("account", "zz"), 404, "not_found", {"what": "account", "id": "zz"}),
    (Conflict("already_linked", "linked", email="a@x"), 409, "already_linked", {"email": "a@x"}),
    (authorize.Denied(DENIED), 403, "forbidden", {"decision_id": "d1", "rule": "r", "group": None}),
    (authorize.TooLong("user", 254), 422, "invalid", {"field": "user", "limit": 254}),
    (authorize.UnknownAction("x.y"), 400, "unknown_action", {"action": "x.y"}),
    (service_events.NotUpgradable("lag"), 422, "not_upgradable", {"kind": "lag"}),
    (access_requests.InvalidRequest("greater_group", "more"), 422, "greater_group", {}),
    (cursors.InvalidCursor("bad"), 422, "invalid_cursor", {}),
    (chain.LogUnavailable("down"), 503, "unavailable", {}),
    (Unconfirmed("not confirmed"), 503, "unavailable", {}),
    (IntegrityError("dup"), 409, "conflict", {}),
    (DatabaseError("gone"), 503, "unavailable", {}),
]


@pytest.mark.parametrize(("exc", "status", "code", "details"), CASES, ids=lambda v: type(v).__name__)
def test_each_kind_has_one_answer(exc, status, code, details):
    answered = errors.translate(exc)
    assert (answered.status, answered.code, answered.details) == (status, code, details)
    line, payload, _headers = fast._error(exc)  # the fast path gives the same answer
    assert line.startswith(f"{status} ")
    assert json.loads(payload) == errors.body(code, answered.message, details)


def test_every_row_is_covered_and_unknown_errors_are_not_translated():
    assert {row.kind for row in error_table.ROWS} == {type(c[0]) for c in CASES}
    with pytest.raises(KeyError):
        errors.translate(KeyError("x"))


def test_serving_answers_with_the_same_codes():
    answer = http_errors.response(408, "Request Timeout")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == error_table.HTTP_CODES[408]


def _caught_names(handler: ast.ExceptHandler) -> set[str]:
    return {n.attr if isinstance(n, ast.Attribute) else n.id for n in ast.walk(handler.type)
            if isinstance(n, ast.Attribute | ast.Name)}


def test_no_view_translates_a_kind_of_the_table_itself():
    """A view lets the table's kinds reach the handlers; only the console shows them as text,
    and AuthZEN, whose specification answers what cannot be decided with a deny (200,
    `decision: false`, `context.error`), never with an error status."""
    kinds = {row.kind.__name__ for row in error_table.ROWS}
    found = []
    for path in sorted(API.glob("*.py")):
        if path.name == "error_table.py" or path.name.startswith(("console", "authzen")):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                found += [f"{path.name}:{node.lineno} {name}" for name in _caught_names(node) & kinds]
    assert found == []
