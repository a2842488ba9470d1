"""Every console page and form (docs/decisions/036-console.md) given hostile values in every field
it reads: NUL, lone surrogates, RTL/zero-width characters, 10 kB, SQL/LIKE metacharacters,
HTML/script, CSV formulas, path traversal, huge numbers, dates out of range, cursor junk.

Must hold: no 500 and no traceback on any page; a hostile value is never rendered unescaped;
every POST form without the session's CSRF token is refused and changes nothing (R7.5: the
console's reads record nothing). On both stores.
"""

import hashlib
from urllib.parse import quote

import pytest

from authz_service import store
from authz_service.store import models as m
from tests.support.console import CSRF, csrf, make_key, sign_in

HOSTILE = ["a\x00b", "\ud800", "\u202eada@acme.example", "ada\u200b@acme.example", "x" * 10_000,
           "%' OR 1=1 --", "_%\\", "<script>alert(1)</script>", "=HYPERLINK(\"http://e.example\")",
           "../../etc/passwd", "9" * 5000, "-1", "0", "9999-99-99", "0001-01-01", "true", "csv", "[]"]
FIELDS = ("partner", "viewer", "sort", "hide_inactive", "cursor", "customer", "action", "email", "actor",
          "status", "decision_id", "user", "account", "session", "allowed", "q", "from", "to", "unit",
          "group", "name", "scope", "expires_in_days", "request_id", "reason", "next", "since", "key")
STATE = (m.Account, m.User, m.Link, m.Invite, m.ApiKey, m.Service, m.AccessRequest)


def digest() -> str:
    with store.connection():
        rows = [sorted(map(repr, model.select().tuples())) for model in STATE]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def console_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every console route without path arguments but the export's."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or rule.rule == "/console/signout":
            continue
        path = rule.rule.replace("<kind>", "csv")
        if "<" in path:
            continue
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def encoded(pairs: dict) -> str:
    """Query or form text, a lone surrogate sent as its (invalid) UTF-8 bytes as a hostile client would."""
    return "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in pairs.items())


def faults(response) -> list[str]:
    text = response.get_data(as_text=True)
    found = []
    if response.status_code >= 500:
        found.append(f"{response.status_code}: {text[:160]}")
    if "Traceback" in text:
        found.append("a traceback is shown")
    if "<script>alert(1)</script>" in text and response.mimetype == "text/html":
        found.append("the value is rendered unescaped")  # text/plain is sent with nosniff
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no nosniff")
    return found


@pytest.fixture
def signed_in(app, client):
    sign_in(client, make_key("auditor", ["audit", "manage"]))
    return client


@pytest.mark.slow
@pytest.mark.parametrize("field", FIELDS)
def test_every_console_page_and_form_holds_with_hostile_values(app, signed_in, field):
    """Every route x every field x every hostile value: no 500, no traceback, no raw script.
    One case per field, so that xdist's workers share the ~17,000 requests of a store
    (docs/decisions/040-ci-time.md); together they send exactly what one loop over all fields did."""
    client, token, failures = signed_in, csrf(signed_in), []
    routes = console_routes(app)
    assert len(routes) >= 20, routes
    for method, path in routes:
        for value in HOSTILE:
            if method == "GET":
                response = client.get(f"{path}?{encoded({field: value})}")
            else:
                response = client.post(path, data=encoded({"csrf_token": token, field: value}),
                                       content_type="application/x-www-form-urlencoded")
            failures += [f"{method} {path} {field}={value[:20]!r}: {f}" for f in faults(response)]
    assert not failures, "\n".join(failures[:30])


def test_every_console_form_refuses_a_missing_or_foreign_csrf_token(app, signed_in):
    """CSRF: every POST without the session's token (none, empty, another's) changes nothing."""
    before, posts = digest(), [path for method, path in console_routes(app) if method == "POST"]
    assert len(posts) >= 8, posts
    sample = {"name": "k", "scope": "audit", "customer": "initech", "email": "ada@acme.example",
              "group": "regular", "request_id": "x", "partner": "acme", "reason": "r", "key": "k"}
    for path in posts:
        for token in (None, "", "forged-token"):
            data = {**sample, **({} if token is None else {"csrf_token": token})}
            response = signed_in.post(path, data=data)
            assert response.status_code in (400, 403), (path, token, response.status_code)
            assert not faults(response)
    assert digest() == before


def test_sign_in_goes_back_only_to_a_console_path(app):
    """`next` after a good sign-in: a console path is followed; CR/LF (a header injection, once a
    500), "//host", "/console/..//host", a backslash or a tab gives the console's first page."""
    key = make_key("auditor", ["audit"])
    cases = {"/console/activity": "/console/activity", "/console/%0d%0aSet-Cookie:%20x=1": "/console/policy",
             "/console/..//evil.example": "/console/policy", "/console//evil.example": "/console/policy",
             "/console/%5c%5cevil.example": "/console/policy", "/console/%09//x": "/console/policy",
             "//evil.example/console/": "/console/policy", "https://evil.example/console/": "/console/policy"}
    for given, expected in cases.items():
        client = app.test_client()
        token = CSRF.search(client.get(f"/console/signin?next={given}").get_data(as_text=True)).group(1)
        response = client.post(f"/console/signin?next={given}", data={"key": key, "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == expected, (given, response.status_code)
