"""Cross-tenant reads: nothing of one partner or customer reaches a caller of another (R4.7, R4.8)."""

import json

import pytest

from tests.support.auth import bearer

ACME_SECRETS = ["initech", "umbrella", "hooli", "Initech", "Umbrella", "sam@acme.example",
                "rita@acme.example", "new@wayne.example", "svc-acme"]
OUTSIDERS = ["gina@globex.example", "gus@globex.example", "sol@soylent.example",
             "ian@initech.example", "nobody@nowhere.example"]


@pytest.fixture
def acme_data(client):
    """A service at initech, an invite and a link change at acme, and ada's cursors."""
    client.post("/v1/customers/initech/services", json={"user": "ada@acme.example", "service_id": "svc-acme",
                "kind": "port", "monthly_price_cents": 999}, headers=bearer())
    client.post("/v1/partners/acme/invites", json={"user": "ada@acme.example", "email": "new@wayne.example"},
                headers=bearer())
    page = client.get("/v1/partners/acme/customers", query_string={"user": "ada@acme.example", "limit": 1},
                      headers=bearer()).json
    links = client.get("/v1/customers/initech/links", query_string={"user": "ada@acme.example", "limit": 1},
                       headers=bearer()).json
    return {"customers_cursor": page["next_cursor"], "links_cursor": links["next_cursor"]}


def reads(user: str, cursors: dict) -> list[tuple[str, dict]]:
    """Every user-scoped read of acme's data, with and without ada's cursors."""
    return [
        ("/v1/partners/acme/customers", {"user": user}),
        ("/v1/partners/acme/customers", {"user": user, "cursor": cursors["customers_cursor"]}),
        ("/v1/partners/acme/customers", {"user": user, "sort": "-mrr_cents", "hide_inactive": "true"}),
        ("/v1/customers/initech/links", {"user": user}),
        ("/v1/customers/initech/links", {"user": user, "cursor": cursors["links_cursor"]}),
        ("/v1/customers/initech/linkable-users", {"user": user}),
        ("/v1/partners/acme/invites", {"user": user}),
        ("/v1/accounts/acme/activity", {"user": user}),
        ("/v1/accounts/umbrella/activity", {"user": user}),
    ]


@pytest.mark.parametrize("user", OUTSIDERS)
def test_no_read_crosses_tenants(client, acme_data, user):
    """Another partner's users, a customer's user and strangers get 403 with nothing of acme in it."""
    for path, query in reads(user, acme_data):
        response = client.get(path, query_string=query, headers=bearer())
        assert response.status_code == 403, (path, user, response.status_code)
        text = json.dumps(response.json)
        assert not [s for s in ACME_SECRETS if s in text], (path, user, text)


def test_accounts_list_and_batch_stay_in_the_tenant(client):
    """A globex admin's reachable accounts and batch answers name only globex's own accounts."""
    reach = client.post("/v1/authorize/accounts", json={"user": "gina@globex.example", "action": "account.view"},
                        headers=bearer()).json["items"]
    assert reach == ["globex", "soylent"]
    batch = client.post("/v1/authorize/batch", json={"user": "gina@globex.example", "checks": [
        {"action": "account.view", "account": a} for a in ("acme", "initech", "umbrella", "hooli")]},
        headers=bearer()).json["results"]
    assert [r["allowed"] for r in batch] == [False] * 4 and all(r["group"] is None for r in batch)


def test_a_customer_page_cursor_is_bound_to_its_viewer(client, acme_data):
    """R5.10: reusing a partner admin's cursor as another acme user is refused, not a window on the list."""
    response = client.get("/v1/partners/acme/customers", query_string={
        "user": "rita@acme.example", "cursor": acme_data["customers_cursor"]}, headers=bearer())
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_cursor"
