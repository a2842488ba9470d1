"""The one reader of request input (api/request_input.py): every hostile body, path and query is
the contract's 400 or 422, never a 500 or HTML, and changes nothing (docs/api.md conventions;
docs/decisions/016-hostile-input.md)."""

import json

import pytest

from authz_service.store.models import Decision, Service, User
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.reads import synced_store

AUTHORIZE = {"user": "ada@acme.example", "action": "port.view", "account": "initech"}
DEEP = b"[" * 100_000 + b"]" * 100_000


def counts() -> tuple[int, int, int]:
    with synced_store():
        return Decision.select().count(), User.select().count(), Service.select().count()


def send(client, path: str, data: bytes, method: str = "POST", content_type="application/json",
         headers: dict | None = None):
    return client.open(path, method=method, data=data, content_type=content_type,
                       headers=bearer() if headers is None else headers)


@pytest.mark.parametrize(("data", "status", "code"), [
    (b'{"user": "\\ud800", "action": "port.view", "account": "initech"}', 422, "invalid"),
    (b'{"user": "ada@acme.example", "action": "port.view", "account": "\\udfff"}', 422, "invalid"),
    (b'{"user": "ada@acme.example", "action": "port.view", "account": "initech", "\\ud800": 1}',
     422, "invalid"),
    (b'{"user": "ada@acme.example\\u0000", "action": "port.view", "account": "initech"}', 422, "invalid"),
    (DEEP, 400, "malformed_json"),
    (b'{"user": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "malformed_json"),
    (b'{"user": "ada@acme.example", "action": "port.view", "account": "initech", "x": '
     + b"9" * 5000 + b"}", 422, "invalid"),
    (b'{"user": "ada@acme.example", "action": "port.view", "account": NaN}', 400, "malformed_json"),
    (b'{"user": "ada@acme.example", "action": "port.view", "account": -Infinity}', 400, "malformed_json"),
    (b'{"user": "ada@acme.example", "action": "port.view", "account": 1e999}', 422, "invalid"),
    (b'{"user": "\xed\xa0\x80", "action": "port.view", "account": "initech"}', 400, "malformed_json"),
], ids=["surrogate-value", "low-surrogate", "surrogate-key", "nul", "100k-deep", "41-deep",
        "5000-digits", "nan", "infinity", "1e999", "utf8-encoded-surrogate"])
@pytest.mark.parametrize("path", ["/v1/authorize", "/v1/authorize/batch"])
def test_hostile_json_is_the_contracts_error_and_records_nothing(client, path, data, status, code):
    """docs/api.md conventions: 400 for what is not JSON (invalid UTF-8, NaN, nesting past 32, without
    recursion), 422 for unstorable text or an absurd number; the fast path answers the same."""
    before = counts()
    assert_error(send(client, path, data), status, code)
    assert counts() == before


def test_deep_json_without_a_key_is_json_not_html(client):
    """Issue 16 class 7: 100k-deep JSON without a key was an HTML 500."""
    response = send(client, "/v1/authorize", DEEP, headers={})
    assert response.status_code in (400, 401)
    assert_error(response, response.status_code)


def test_brackets_inside_strings_do_not_count_as_depth(client):
    """The depth scan skips strings: a user name full of brackets is a plain (denied) decision."""
    body = json.dumps({**AUTHORIZE, "user": "[" * 100 + "{" * 100 + '\\"'}).encode()
    response = send(client, "/v1/authorize", body)
    assert response.status_code == 200 and response.json["allowed"] is False


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
@pytest.mark.parametrize("path", ["/v1/authorize", "/v1/partners/acme/users/new@acme.example"])
def test_a_wrong_content_type_is_said_so(client, path, content_type):
    """Issue 16 class 11: a JSON body sent under another Content-Type is 400 wrong_content_type,
    not "missing fields"; nothing is decided or stored."""
    method = "POST" if path == "/v1/authorize" else "PUT"
    body = json.dumps(AUTHORIZE if method == "POST" else {"group": "regular"}).encode()
    before = counts()
    error = assert_error(send(client, path, body, method, content_type), 400, "wrong_content_type")
    assert error["details"]["content_type"] == content_type.split(";")[0]
    assert counts() == before


@pytest.mark.parametrize("at", [
    "0001-01-01T00:00:00+01:00", "0001-01-01T00:30:00+14:00", "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "9999-01-01T00:00:00Z", "1970-01-01T00:30:00+01:00",
])
def test_times_near_the_ends_of_the_calendar_are_422(client, at):
    """Issue 16 class 7: a time near year 1 or 9999 with an offset overflowed (500); every time
    outside 1970-9998 in UTC is 422, and nothing is stored."""
    before = counts()
    body = {"user": "ada@acme.example", "service_id": "svc-cal", "kind": "port",
            "monthly_price_cents": 100, "ordered_at": at}
    response = client.post("/v1/customers/initech/services", json=body, headers=bearer())
    assert_error(response, 422, "invalid")
    assert_error(client.get(f"/v1/decisions?since={at.replace('+', '%2B')}", headers=bearer()),
                 422, "invalid")
    assert counts() == before


def test_a_time_inside_the_range_with_an_offset_is_kept_in_utc(client):
    """1970-9998 after conversion to UTC is accepted, offsets included."""
    body = {"user": "ada@acme.example", "service_id": "svc-ok", "kind": "port",
            "monthly_price_cents": 100, "ordered_at": "2026-01-01T01:00:00+01:00"}
    response = client.post("/v1/customers/initech/services", json=body, headers=bearer())
    assert response.status_code == 201, response.json
    assert response.json["ordered_at"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("raw_path", [b"/v1/partners/acme/users/\xed\xa0\x80@acme.example",
                                      b"/v1/partners/acme/users/\xff@acme.example"])
def test_a_path_that_is_not_utf8_is_400_and_stores_no_user(client, raw_path):
    """Werkzeug turns such bytes into U+FFFD; a user named so must not be stored."""
    before = counts()
    response = client.put("/v1/partners/acme/users/x@acme.example", json={"group": "regular"},
                          headers=bearer(), environ_overrides={"PATH_INFO": raw_path.decode("latin-1")})
    assert_error(response, 400, "malformed")
    assert counts() == before


@pytest.mark.parametrize("query", ["user=%ED%A0%80", "user=%FF", "user=a%00b"])
def test_a_query_that_is_not_utf8_or_holds_nul_is_refused(client, query):
    """A query is checked like a body: not UTF-8 is 400, NUL is 422."""
    response = client.get(f"/v1/decisions?{query}", headers=bearer())
    assert_error(response, 422 if "%00" in query else 400)


def test_nul_in_a_path_is_422_and_stores_nothing(client):
    """A path value is checked like a body value (view_args)."""
    before = counts()
    response = client.put("/v1/partners/acme/users/a%00b@acme.example", json={"group": "regular"},
                          headers=bearer())
    assert_error(response, 422, "invalid")
    assert counts() == before
