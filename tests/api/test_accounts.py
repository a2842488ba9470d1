"""POST /v1/authorize/accounts and /v1/authorize/batch agree with POST /v1/authorize."""

import pytest

from authz_service.store import fixtures
from tests.support.auth import bearer

DATA = fixtures.read()
ACCOUNTS = sorted([*DATA["partners"], *DATA["customers"]])
USERS = sorted({email for section in ("partners", "customers") for acc in DATA[section].values()
                for email in acc["users"]})
ACTIONS = ["port.create", "port.view", "billing.view", "grant.manage", "customer.list",
           "account.view_summary", "user.manage", "invoice.download"]


def accounts_for(client, user, action, limit=500):
    items, cursor = [], None
    while True:
        body = {"user": user, "action": action, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        response = client.post("/v1/authorize/accounts", json=body, headers=bearer())
        assert response.status_code == 200, response.json
        items += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("action", ACTIONS)
def test_accounts_are_exactly_those_authorize_allows(client, api, action):
    """docs/api.md: every account where authorize would allow the action, and no other."""
    for user in USERS:
        expected = sorted(a for a in ACCOUNTS if api.allowed(user, action, a))
        assert sorted(accounts_for(client, user, action)) == expected, user


def test_accounts_pages_walk_every_account_once(client):
    """A partner admin's reach, one per page, each account once, in a stable order."""
    one_by_one = accounts_for(client, "ada@acme.example", "port.view", limit=1)
    assert one_by_one == sorted(set(one_by_one))
    assert one_by_one == ["acme", "hooli", "initech", "umbrella"]


def test_accounts_for_an_unknown_user_is_empty(client):
    """An unknown user may act nowhere; that is an empty list, not an error."""
    assert accounts_for(client, "nobody@acme.example", "port.view") == []


def test_a_forged_cursor_is_refused(client):
    """A cursor the service did not give is 422, never a 500."""
    response = client.post("/v1/authorize/accounts", json={"user": "ada@acme.example",
                           "action": "port.view", "cursor": "%%%"}, headers=bearer())
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_cursor"


def test_batch_answers_in_order_like_single_calls(client, api):
    """docs/api.md batch: the same results as one call each, in the same order."""
    checks = [{"action": a, "account": acc} for a in ACTIONS for acc in ACCOUNTS]
    response = client.post("/v1/authorize/batch", json={"user": "rita@acme.example",
                           "checks": checks}, headers=bearer())
    assert response.status_code == 200
    results = response.json["results"]
    assert len(results) == len(checks)
    for check, result in zip(checks, results, strict=True):
        single = api.authorize("rita@acme.example", check["action"], check["account"]).json
        assert (result["allowed"], result["group"], result["rule"]) == (
            single["allowed"], single["group"], single["rule"]), check
    assert len({r["decision_id"] for r in results}) == len(results)
