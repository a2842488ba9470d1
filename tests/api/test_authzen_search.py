"""The AuthZEN searches and discovery: the certification scenario's Search and Discovery levels
on our domain; results agree with POST /v1/authorize (docs/api.md "AuthZEN 1.0")."""

import pytest

from authz_service.app import create_app
from authz_service.store import fixtures
from tests.support import backends
from tests.support.authzen import (
    ALICE,
    BOB,
    READ,
    RECORD,
    action,
    decisions,
    post,
    resource,
    subject,
)

DATA = fixtures.read()
ACCOUNTS = sorted([*DATA["partners"], *DATA["customers"]])
USERS = sorted({email for section in ("partners", "customers") for acc in DATA[section].values()
                for email in acc["users"]})


def search(client, kind, body) -> tuple[list[dict], dict]:
    response = post(client, f"search/{kind}", body)
    assert response.status_code == 200, response.json
    assert isinstance(response.json["results"], list)
    page = response.json.get("page", {"next_token": ""})
    assert isinstance(page, dict) and isinstance(page["next_token"], str)
    return response.json["results"], page


def every(client, kind, body, limit=None) -> list[dict]:
    """Every result, page by page (page.token from next_token until it is empty)."""
    found, token = [], None
    while True:
        page = {**({"limit": limit} if limit else {}), **({"token": token} if token else {})}
        results, answer = search(client, kind, {**body, "page": page})
        found += results
        token = answer["next_token"]
        if not token:
            return found


def ids(results) -> list[str]:
    return [r["id"] for r in results]


@pytest.mark.parametrize("what", [READ, "port.create", "billing.view", "user.manage", "grant.manage"])
def test_subject_search_is_exactly_who_authorize_allows(client, api, what):
    """S1 / C.4.2.1: every user for whom /v1/authorize allows, and no other; type user."""
    for account in ("initech", "acme", "soylent"):
        body = {"subject": {"type": "user"}, "action": action(what), "resource": resource(account)}
        results = every(client, "subject", body)
        assert {r["type"] for r in results} <= {"user"}
        assert sorted(ids(results)) == [u for u in USERS if api.allowed(u, what, account)], account


def test_subject_search_ignores_subject_id_and_context_and_pages(client):
    """C.4.2.2, C.4.2.3, C.4.5: the same set with an id, with context, and one per page."""
    body = {"subject": {"type": "user"}, "action": action(), "resource": resource()}
    whole = every(client, "subject", body)
    assert {ALICE, BOB} <= set(ids(whole))
    assert every(client, "subject", {**body, "subject": subject(ALICE)}) == whole
    assert every(client, "subject", {**body, "context": {"time": "2025-06-27T18:03-07:00"}}) == whole
    assert every(client, "subject", body, limit=1) == whole
    first, page = search(client, "subject", {**body, "page": {"limit": 1}})
    assert len(first) == 1 and page["next_token"]


@pytest.mark.parametrize("what", [READ, "port.create", "billing.view", "customer.list"])
def test_resource_search_is_exactly_where_authorize_allows(client, api, what):
    """S2 / C.4.3.1: every account where /v1/authorize allows, and no other; type account."""
    for user in (ALICE, BOB, "rita@acme.example", "ian@initech.example", "lee@acme.example"):
        body = {"subject": subject(user), "action": action(what), "resource": {"type": "account"}}
        results = every(client, "resource", body)
        assert {r["type"] for r in results} <= {"account"}
        assert ids(results) == [a for a in ACCOUNTS if api.allowed(user, what, a)], user


def test_resource_search_ignores_resource_id_and_pages(client):
    """C.4.3.2, C.4.3.3: an id or a context changes nothing; pages walk the same set."""
    body = {"subject": subject(), "action": action(), "resource": {"type": "account"}}
    whole = every(client, "resource", body)
    assert RECORD in ids(whole)
    assert every(client, "resource", {**body, "resource": resource()}) == whole
    assert every(client, "resource", {**body, "context": {"ip": "192.168.1.1"}}) == whole
    assert every(client, "resource", body, limit=1) == whole


def test_action_search_is_exactly_what_authorize_allows(client, api, app):
    """S3 / C.4.4.1, C.4.4.2: every R3 action /v1/authorize allows there, sorted by name."""
    vocabulary = app.extensions["authz"].policy.vocab.actions
    for user, account in [(ALICE, RECORD), (BOB, RECORD), ("rita@acme.example", "umbrella"),
                          ("iris@initech.example", RECORD), (BOB, "hooli")]:
        body = {"subject": subject(user), "resource": resource(account)}
        names = [r["name"] for r in every(client, "action", body)]
        assert names == sorted(a for a in vocabulary if api.allowed(user, a, account)), user
        with_context = every(client, "action", {**body, "context": {"time": "now"}, "action": action()})
        assert [r["name"] for r in with_context] == names


@pytest.mark.parametrize(("kind", "body"), [
    ("subject", {"subject": {"type": "spaceship"}, "action": action(), "resource": resource()}),
    ("subject", {"subject": {"type": "user"}, "action": action(), "resource": resource("nowhere")}),
    ("subject", {"subject": {"type": "user"}, "action": action("read"), "resource": resource()}),
    ("subject", {"subject": {"type": "user"}, "action": action(), "resource": {"type": "record", "id": RECORD}}),
    ("resource", {"subject": subject("nobody@acme.example"), "action": action(), "resource": {"type": "account"}}),
    ("resource", {"subject": subject(), "action": action(), "resource": {"type": "record"}}),
    ("resource", {"subject": {"type": "group", "id": ALICE}, "action": action(), "resource": {"type": "account"}}),
    ("resource", {"subject": subject(), "action": action("write"), "resource": {"type": "account"}}),
    ("action", {"subject": subject("nonexistent-user"), "resource": resource()}),
    ("action", {"subject": subject(), "resource": resource("record-1")}),
    ("action", {"subject": subject(), "resource": {"type": "record", "id": RECORD}}),
])
def test_unknown_types_ids_and_actions_find_nothing(client, kind, body):
    """C.4.6: an empty results array, not an error."""
    assert search(client, kind, body)[0] == []


@pytest.mark.parametrize(("kind", "body"), [
    ("subject", {"subject": {"type": "user"}, "resource": resource()}),
    ("resource", {"action": action(), "resource": {"type": "account"}}),
    ("action", {"subject": subject()}),
    ("subject", {"subject": {"type": "user"}, "action": action(), "resource": {"type": "account"}}),
    ("resource", {"subject": {"type": "user"}, "action": action(), "resource": {"type": "account"}}),
    ("action", {"subject": {"type": "user"}, "resource": resource()}),
    ("action", {"subject": subject(), "resource": {"type": "account"}}),
    ("subject", {"subject": {"id": ALICE}, "action": action(), "resource": resource()}),
    ("resource", {"subject": subject(), "action": {}, "resource": {"type": "account"}}),
    ("subject", {"subject": {"type": "user"}, "action": action(), "resource": resource(), "page": {"limit": "2"}}),
    ("subject", {"subject": {"type": "user"}, "action": action(), "resource": resource(), "page": []}),
])
def test_missing_inputs_are_400(client, kind, body):
    """C.4.7: the searched entity needs only its type; every input entity is complete."""
    response = post(client, f"search/{kind}", body)
    assert response.status_code == 400, response.json


def test_a_token_not_given_for_this_list_is_422(client):
    """A forged token, or one from another search, is refused; a limit of 0 too."""
    body = {"subject": {"type": "user"}, "action": action(), "resource": resource()}
    token = search(client, "subject", {**body, "page": {"limit": 1}})[1]["next_token"]
    other = {**body, "resource": resource("hooli")}
    for bad in ({**body, "page": {"token": "%%%"}}, {**other, "page": {"token": token}},
                {**body, "page": {"limit": 0}}):
        assert post(client, "search/subject", bad).status_code == 422, bad


def test_each_search_is_recorded_once_as_the_key_that_asked(client):
    """Who asked what: one entry per search, named as the key (R7.5), in no activity log."""
    before = len(decisions(client))
    search(client, "subject", {"subject": {"type": "user"}, "action": action(), "resource": resource()})
    search(client, "resource", {"subject": subject(BOB), "action": action(), "resource": {"type": "account"}})
    search(client, "action", {"subject": subject(BOB), "resource": resource()})
    entries = decisions(client)[:3]
    assert len(decisions(client)) == before + 3
    assert [e["action"] for e in entries] == [f"authzen.search_{k}" for k in ("action", "resource", "subject")]
    assert {e["user"] for e in entries} == {"api key bootstrap"}
    assert {e["caller"] for e in entries} == {"bootstrap"}
    assert decisions(client, user=BOB) == []  # never the searched user's activity
    assert "port.view" in entries[2]["reason"] and RECORD in entries[2]["reason"]


def test_discovery_names_every_endpoint_without_a_key(client, database_url, tmp_path):
    """C.6: 200 JSON, no key; the base from AUTHZ_PUBLIC_URL, else the request's."""
    response = client.get("/.well-known/authzen-configuration")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["policy_decision_point"] == "http://localhost"
    assert response.json["access_evaluation_endpoint"] == "http://localhost/access/v1/evaluation"
    public = create_app({"database_url": database_url, "policy_poll_seconds": 0,
                         "public_url": "https://pdp.example.com/",
                         **backends.side_files(database_url, tmp_path / "public")}).test_client()
    config = public.get("/.well-known/authzen-configuration").json
    assert config == {"policy_decision_point": "https://pdp.example.com",
                      **{f"{name}_endpoint": f"https://pdp.example.com/access/v1/{path}" for name, path in [
                          ("access_evaluation", "evaluation"), ("access_evaluations", "evaluations"),
                          ("search_subject", "search/subject"), ("search_resource", "search/resource"),
                          ("search_action", "search/action")]}}
