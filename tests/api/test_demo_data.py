"""The demo's activity (services, prices, logins) gives the Customers page figures (R5), once."""

from datetime import timedelta

from authz_service import store
from authz_service.cli import demo_activity
from authz_service.store.models import utcnow
from tests.support.auth import bearer

NOW = utcnow().replace(microsecond=0)  # the times are relative to now: the router bills later


def rows(client, **query) -> dict:
    response = client.get("/v1/partners/acme/customers", headers=bearer(),
                          query_string={"user": "ada@acme.example", **query})
    assert response.status_code == 200, response.json
    return {item["customer_id"]: item for item in response.json["items"]}


def stamp(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(app):
    with app.app_context(), store.connection():
        return demo_activity.load(app.extensions["authz"].policy, now=NOW)


def test_the_demo_customers_page_shows_prices_counts_and_times(app, client):
    assert load(app) == (8, 3)
    page = rows(client)
    assert page["initech"] == {  # two ports, a hosted connection, a VC; the router bills later
        "customer_id": "initech", "name": "Initech", "group": "admin", "mrr_cents": 110000,
        "ports": 2, "vcs": 2, "cloud": 1, "last_activity": stamp(1), "last_order": stamp(3)}
    assert (page["umbrella"]["mrr_cents"], page["umbrella"]["cloud"]) == (240000, 1)
    assert page["hooli"]["mrr_cents"] == 0 and page["hooli"]["last_order"] is None
    assert set(rows(client, hide_inactive="true")) == {"initech", "umbrella"}


def test_a_second_load_adds_nothing(app, client):
    load(app)
    before = rows(client)
    assert load(app) == (0, 0)
    assert rows(client) == before


def test_demo_logins_are_in_the_customers_activity_log(app, client):
    load(app)
    response = client.get("/v1/accounts/initech/activity", headers=bearer(),
                          query_string={"user": "ian@initech.example"})
    logins = [e for e in response.json["items"] if e["action"] == "login"]
    assert [(e["user"], e["at"]) for e in logins] == [("ian@initech.example", stamp(1))]
