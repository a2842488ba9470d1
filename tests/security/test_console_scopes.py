"""Console actions with each key scope (issue 16 class 2, must-hold 2): only a key with `manage`
changes anything, recorded as the console key, never as a user named in a form (R7.5)."""

import pytest

from tests.support.console import csrf, entries, links_of, make_key, sign_in

ACTIONS = [  # (path, form, what the links of initech become when it works)
    ("/console/links/add", {"email": "lee@acme.example"},
     {"rita@acme.example": "regular", "sam@acme.example": "support", "lee@acme.example": "support"}),
    ("/console/links/group", {"email": "sam@acme.example", "group": "regular"},
     {"rita@acme.example": "regular", "sam@acme.example": "regular"}),
    ("/console/links/revoke", {"email": "sam@acme.example"}, {"rita@acme.example": "regular"}),
]
BEFORE = {"rita@acme.example": "regular", "sam@acme.example": "support"}


@pytest.mark.parametrize("path, form, after", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_an_audit_key_changes_nothing(client, path, form, after):
    """An audit-only key signs in, but each change is a 403 page: no link moves, nothing is logged."""
    assert sign_in(client, make_key("auditor", ["audit"])).status_code == 302
    stored = len(entries())
    response = client.post(path, data={"customer": "initech", "actor": "ada@acme.example",
                                       "csrf_token": csrf(client), **form})
    assert response.status_code == 403
    assert "lacks the manage scope" in response.get_data(as_text=True)
    assert links_of("initech") == BEFORE
    assert len(entries()) == stored


@pytest.mark.parametrize("scopes", [["decide"], ["manage"], ["decide", "manage"]])
def test_a_key_without_audit_does_not_sign_in(client, scopes):
    """Signing in needs `audit`; without a session every change is a redirect to sign-in."""
    response = sign_in(client, make_key("other", scopes))
    assert response.status_code == 401
    path, form, _ = ACTIONS[2]
    refused = client.post(path, data={"customer": "initech", **form})
    assert refused.status_code in (302, 400)  # no session: sign-in page; no CSRF token: 400
    assert links_of("initech") == BEFORE


@pytest.mark.parametrize("path, form, after", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_a_manage_key_changes_and_is_recorded_as_itself(client, path, form, after):
    """audit + manage: the change happens, recorded in acme's log as "console key NAME" with the
    key as caller; the partner admin named in the form is not named anywhere (R7.2, R7.5)."""
    assert sign_in(client, make_key("reviewer", ["audit", "manage"])).status_code == 302
    response = client.post(path, data={"customer": "initech", "actor": "ada@acme.example",
                                       "user": "ada@acme.example", "csrf_token": csrf(client), **form})
    assert response.status_code == 302
    assert links_of("initech") == after
    recorded = entries(action="grant.manage")
    assert [(e["user_email"], e["caller"], e["account_id"], e["log_account"], e["allowed"])
            for e in recorded] == [("console key reviewer", "reviewer", "acme", "acme", True)]
    assert recorded[0]["resource_id"] == f"initech/{form['email']}"
    assert entries(user_email="ada@acme.example") == []


def test_the_bootstrap_key_is_recorded_as_itself(client):
    """The bootstrap key (every scope) changes links as "console key bootstrap"."""
    from tests.support.auth import BOOTSTRAP

    sign_in(client, BOOTSTRAP)
    client.post("/console/links/revoke", data={"customer": "initech", "email": "sam@acme.example",
                                               "csrf_token": csrf(client)})
    assert links_of("initech") == {"rita@acme.example": "regular"}
    assert [e["user_email"] for e in entries(action="grant.manage")] == ["console key bootstrap"]


@pytest.mark.parametrize("form", [
    {"email": "ada@acme.example"},  # an admin (R4.4)
    {"email": "gus@globex.example"},  # another partner's user
    {"email": "ian@initech.example"},  # a customer's user
    {"email": "nobody@acme.example"},  # unknown
    {"email": "x" * 10_000 + "@acme.example"},
    {"email": "lee@acme.example\x00"},
    {"email": "lee\u200b@acme.example"},
    {"email": "lee@acme.example", "customer": "nowhere"},
], ids=["admin", "other-partner", "customer-user", "unknown", "long", "nul", "zero-width", "no-customer"])
def test_a_refused_change_changes_and_records_nothing(client, form):
    """R4.4 holds for the console too: refused with a message, nothing stored, never a 500."""
    sign_in(client, make_key("reviewer", ["audit", "manage"]))
    stored = len(entries())
    response = client.post("/console/links/add", data={"customer": "initech",
                                                       "csrf_token": csrf(client), **form},
                           follow_redirects=True)
    if "\x00" in form["email"]:
        assert response.status_code == 422  # refused before anything reads it (PostgreSQL stores no NUL)
    else:
        assert response.status_code == 200
        assert "Refused:" in response.get_data(as_text=True)
    assert links_of("initech") == BEFORE and len(entries()) == stored


def test_undecodable_bytes_change_nothing(client):
    """A form body that is not UTF-8 (a lone surrogate's bytes) is refused, never a 500."""
    sign_in(client, make_key("reviewer", ["audit", "manage"]))
    body = f"customer=initech&email=lee%40acme.example%ED%A0%80&csrf_token={csrf(client)}"
    response = client.post("/console/links/add", data=body, follow_redirects=True,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and "Refused:" in response.get_data(as_text=True)
    assert links_of("initech") == BEFORE and entries(action="grant.manage") == []


def test_an_unknown_group_is_refused(client):
    """A group no link may give (admin, or made up) is refused; the link keeps its group."""
    sign_in(client, make_key("reviewer", ["audit", "manage"]))
    for group in ("admin", "owner", ""):
        client.post("/console/links/group", data={"customer": "initech", "email": "sam@acme.example",
                                                  "group": group, "csrf_token": csrf(client)})
    assert links_of("initech") == BEFORE
    assert entries(action="grant.manage") == []


def test_a_revoked_manage_key_stops_changing_at_once(client):
    """The session re-checks its key on every page: revoked, it signs nobody in."""
    from authz_service import store
    from authz_service.store import keys as store_keys

    sign_in(client, make_key("reviewer", ["audit", "manage"]))
    token = csrf(client)
    with store.connection():
        store_keys.revoke("reviewer")
    response = client.post("/console/links/revoke", data={"customer": "initech",
                                                          "email": "sam@acme.example", "csrf_token": token})
    assert response.status_code == 302 and "/console/signin" in response.headers["Location"]
    assert links_of("initech") == BEFORE
