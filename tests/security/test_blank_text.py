"""A text the contract requires (a request's or a denial's reason, R10.2; a partner's or an
accepted invite's name; the activity search `q`, R7.3) must say something: spaces, tabs, line
breaks, zero-width or bidi marks alone are refused with 422 `invalid` and change nothing
(decision 037). A reason with visible text around such marks is kept as sent.
"""

from authz_service import store
from authz_service.store.models import AccessRequest, Account
from tests.support.auth import bearer
from tests.support.console import csrf, make_key, sign_in
from tests.support.errors import assert_error

BLANK = [" ", "\t\n", "\u200b", "\u202e\u200f", "\u3000", "\u00a0 \u2028", "\ufeff"]
REGGIE, ADA = "reggie@acme.example", "ada@acme.example"


def ask(client, reason: str):
    return client.post("/v1/customers/hooli/access-requests", headers=bearer(),
                       json={"user": REGGIE, "reason": reason, "duration_hours": 4})


def rows() -> tuple:
    with store.connection():
        return (sorted(AccessRequest.select(AccessRequest.id, AccessRequest.status, AccessRequest.reason).tuples()),
                sorted(Account.select(Account.id, Account.name).tuples()))


def test_blank_reasons_and_names_are_refused(client):
    made = ask(client, "incident 42").json["request_id"]
    before = rows()
    for text in BLANK:
        error = assert_error(ask(client, text), 422, "invalid")
        assert "reason" in error["details"]["fields"], error
        denied = client.post(f"/v1/access-requests/{made}/deny", json={"user": ADA, "reason": text}, headers=bearer())
        assert "reason" in assert_error(denied, 422, "invalid")["details"]["fields"]
        named = client.put("/v1/partners/acme", json={"name": text}, headers=bearer())
        assert "name" in assert_error(named, 422, "invalid")["details"]["fields"]
        search = client.get("/v1/decisions", query_string={"q": text}, headers=bearer())
        assert "q" in assert_error(search, 422, "invalid")["details"]["fields"]
    assert rows() == before


def test_visible_text_with_marks_in_it_is_kept(client):
    created = ask(client, " \u200bincident\u00a042 ")
    assert created.status_code == 201, created.json
    assert created.json["reason"] == " \u200bincident\u00a042 "


def test_a_blank_console_denial_reason_is_replaced_by_the_default(client):
    """The console's Deny (R10.2) with only a zero-width space typed records the default reason."""
    made = ask(client, "incident 42").json["request_id"]
    sign_in(client, make_key("operator", ["audit", "manage"]))
    done = client.post("/console/requests/deny", data={"csrf_token": csrf(client), "partner": "acme",
                                                       "request_id": made, "reason": " \u200b\u200f "})
    assert done.status_code == 302
    with store.connection():
        assert AccessRequest.get_by_id(made).decision_reason == "denied from the console"
