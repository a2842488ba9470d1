"""Every time a request carries (every date-time body field and every `since`/`until` of
/openapi.json, and the console's YYYY-MM-DD filters) takes RFC 3339 only (docs/decisions/
016-hostile-input.md, 037-strict-input-forms.md): ISO 8601's other spellings that Python's
parser also reads (basic 20270101T000000Z, week dates, no seconds, +0100, a space, an Arabic
digit) are refused with the contract's error naming the field, and change nothing (R10.1:
a link's end is never set from a time the contract does not define).
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from authz_service import store
from authz_service.store.models import Link
from tests.support.auth import bearer
from tests.support.console import make_key, sign_in
from tests.support.errors import assert_error

NOT_RFC3339 = ["20271201T000000Z", "2027-W01-1T00:00:00Z", "2027-12-01T00:00Z", "2027-12-01T00:00:00+0100",
               "2027-12-01 00:00:00Z", "2027-12-01T00:00:00.Z", "2027-12-01T00:00:00,5Z", "2027-335T00:00:00Z",
               "\u0662027-12-01T00:00:00Z", "2027-12-01T00:00:00Z\n", " 2027-12-01T00:00:00Z"]
NOT_A_DAY = ["20271201", "2027-W01-1", "2027-335", "\u0662027-12-01", "2027-12-1"]


def time_fields(client) -> list[tuple[str, str, str, str]]:
    """(method, path, "body" or "query", field) of every request time in /openapi.json."""
    spec, found = client.get("/openapi.json").get_json(), []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            found += [(method, path, "query", p["name"]) for p in op.get("parameters", [])
                      if p["in"] == "query" and p["name"] in ("since", "until")]
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            schema = spec["components"]["schemas"].get(ref.get("$ref", "/").rsplit("/", 1)[1], {})
            found += [(method, path, "body", name) for name, sub in schema.get("properties", {}).items()
                      if sub.get("format") == "date-time"]
    return found


def test_every_request_time_refuses_iso_8601_forms_that_are_not_rfc_3339(client):
    fields = time_fields(client)
    assert {("put", "expires_at"), ("get", "since"), ("post", "ordered_at")} <= {(m, f) for m, _, _, f in fields}
    for method, path, where, name in fields:
        url = path.replace("{customer_id}", "initech").replace("{email}", "rita@acme.example") \
            .replace("{account_id}", "initech").replace("{service_id}", "svc-none")
        for text in NOT_RFC3339:
            kwargs = {"query_string": {name: text}} if where == "query" else {"json": {"user": "ada@acme.example",
                                                                                        name: text}}
            response = client.open(url, method=method.upper(), headers=bearer(), **kwargs)
            error = assert_error(response, response.status_code)
            assert response.status_code in (400, 422) and name in error["details"].get("fields", {}), \
                (method, path, name, text, error)


def test_a_link_end_in_another_iso_form_changes_nothing(client):
    """R10.1: PUT a link with a week-date end: 422, and the link keeps no end."""
    for text in NOT_RFC3339:
        response = client.put("/v1/customers/hooli/links/reggie@acme.example", headers=bearer(),
                              json={"user": "ada@acme.example", "expires_at": text})
        assert_error(response, 422, "invalid")
    with store.connection():
        assert Link.get_or_none((Link.user == "reggie@acme.example") & (Link.customer == "hooli")) is None
    end = (datetime.now(UTC) + timedelta(days=10)).astimezone(timezone(timedelta(hours=1)))
    good = client.put("/v1/customers/hooli/links/reggie@acme.example", headers=bearer(),
                      json={"user": "ada@acme.example", "expires_at": end.strftime("%Y-%m-%dT%H:%M:%S.123456789+01:00")})
    assert good.status_code == 201, good.json  # RFC 3339 with nine fraction digits and an offset is read


@pytest.mark.parametrize("name", ["from", "to"])
def test_the_console_activity_filter_takes_yyyy_mm_dd_only(client, name):
    sign_in(client, make_key("auditor", ["audit"]))
    for text in NOT_A_DAY:
        page = client.get("/console/activity", query_string={name: text})
        assert page.status_code in (200, 422) and "is not a date (YYYY-MM-DD)" in page.get_data(as_text=True), text
        export = client.get("/console/activity.csv", query_string={name: text})
        assert export.status_code == 422 and "is not a date" in export.get_data(as_text=True), text
