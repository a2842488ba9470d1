"""The Customers page, one viewer at a time (R5.1-R5.11), over HTTP."""

from datetime import datetime, timedelta

import pytest

from authz_service import store
from authz_service.portal import customers
from authz_service.store import directory
from authz_service.store.models import Decision, utcnow
from tests.support.auth import bearer
from tests.support.customers import FIGURES, expected_order, page, walk
from tests.support.reads import synced_store
from tests.support.services import add, ago, delete, iso, login

SORTS = ("name", *FIGURES)

def rows(client, user="ada@acme.example", **query) -> dict:
    response = page(client, user, **query)
    assert response.status_code == 200, response.json
    return {item["customer_id"]: item for item in response.json["items"]}

def customer(cid: str, name: str, links: dict | None = None, partner="acme") -> None:
    """A customer of `partner` with one admin user, and links {email: group}."""
    with store.connection():
        directory.put_customer(cid, name, partner)
        directory.put_user(f"boss@{cid}.example", cid, "customer", "admin")
        for email, group in (links or {}).items():
            directory.put_link(email, cid, group)


def test_rows_and_group_per_viewer(client):
    """R5.1, R4.1-R4.3: each viewer's customers and group; none is an empty page, not an error."""
    assert {c: r["group"] for c, r in rows(client).items()} == {
        "hooli": "admin", "initech": "admin", "umbrella": "admin"}
    assert {c: r["group"] for c, r in rows(client, "rita@acme.example").items()} == {
        "initech": "regular", "umbrella": "support"}
    assert {c: r["group"] for c, r in rows(client, "reggie@acme.example").items()} == {
        "umbrella": "read_only"}
    assert page(client, "lee@acme.example").json == {"items": [], "next_cursor": None}
    pat = rows(client, "pat@acme.example")  # R4.9: an admin's old support link stays unused
    assert pat["hooli"]["group"] == "admin" and pat["hooli"]["mrr_cents"] == 0
    with synced_store():
        entry = Decision.select().order_by(Decision.seq.desc()).first()
    assert (entry.action, entry.log_account, entry.allowed) == ("customer.list", "acme", True)


@pytest.mark.parametrize("user", ["gina@globex.example", "ian@initech.example", "nobody@x.example"])
def test_other_partners_and_customers_users_get_403(client, user):
    """R4.7, R4.8: another partner's user or a customer's user: 403, recorded in acme's log."""
    response = page(client, user)
    assert response.status_code == 403
    with synced_store():
        entry = Decision.get_by_id(response.json["error"]["details"]["decision_id"])
    assert (entry.action, entry.allowed) == ("customer.list", False)
    assert page(client, partner="nowhere").status_code == 404


def the_services(client) -> str:
    """Initech's services; returns the billing start of the one that starts in 10 days."""
    later = iso(utcnow() + timedelta(days=10))
    assert add(client, "bill", "port", 1000, billing_starts_at=ago(20)).status_code == 201
    assert add(client, "later", "virtual_circuit", 500, billing_starts_at=later).status_code == 201
    assert add(client, "hosted", "cloud_hosted", 300, billing_starts_at=ago(1)).status_code == 201
    assert add(client, "dedicated", "cloud_dedicated", 200).status_code == 201
    assert add(client, "lag", "lag", 100, billing_starts_at=ago(2)).status_code == 201
    assert add(client, "gone", "port", 5000, billing_starts_at=ago(5)).status_code == 201
    assert delete(client, "gone").status_code == 204
    return later


def test_mrr_counts_services_billing_now(client):
    """R5.2: billing started and not deleted; not one starting in 10 days, nor a deleted one."""
    the_services(client)
    assert rows(client)["initech"]["mrr_cents"] == 1000 + 300 + 100


def test_mrr_changes_the_moment_billing_starts(client, monkeypatch):
    """R5.2: no nightly job: one microsecond before the start it is out, at the start it is in."""
    later = the_services(client)
    starts = datetime.fromisoformat(later[:-1])
    monkeypatch.setattr(customers, "utcnow", lambda: starts - timedelta(microseconds=1))
    assert rows(client)["initech"]["mrr_cents"] == 1400
    assert rows(client, sort="-mrr_cents", limit=1).keys() == {"initech"}
    monkeypatch.setattr(customers, "utcnow", lambda: starts)
    assert rows(client)["initech"]["mrr_cents"] == 1900
    assert [r["mrr_cents"] for r in walk(client, sort="mrr_cents")] == [0, 0, 1900]


def test_ports_vcs_cloud(client):
    """R5.3-R5.5: ports; VCs with both cloud kinds; cloud; a deleted port counts nowhere."""
    the_services(client)
    got = rows(client)["initech"]
    assert (got["ports"], got["vcs"], got["cloud"]) == (1, 3, 2)
    assert {k: rows(client)["hooli"][k] for k in FIGURES} == {
        "mrr_cents": 0, "ports": 0, "vcs": 0, "cloud": 0, "last_activity": None, "last_order": None}


def test_last_activity_is_the_customers_own_users(client):
    """R5.6: a decision for or a login of its own user; partner users never count."""
    assert login(client, "umbrella", "uma@umbrella.example", at=ago(31)).status_code == 204
    month = rows(client)["umbrella"]["last_activity"]
    client.post("/v1/authorize", json={"user": "ada@acme.example", "action": "port.view",
                                       "account": "umbrella"}, headers=bearer())
    login(client, "umbrella", "rita@acme.example")
    assert rows(client)["umbrella"]["last_activity"] == month
    decided = client.post("/v1/authorize", json={"user": "uma@umbrella.example", "action": "port.view",
                                                 "account": "umbrella"}, headers=bearer())
    with synced_store():
        at = Decision.get_by_id(decided.json["decision_id"]).at
    assert rows(client)["umbrella"]["last_activity"] == iso(at)
    assert rows(client)["hooli"]["last_activity"] is None


def test_last_order_by_anyone_but_not_a_deleted_service(client):
    """R5.7: the latest order, by the customer's users or a partner user on its behalf."""
    at29 = ago(29)
    assert add(client, "h1", customer="hooli", user="ada@acme.example", ordered_at=at29).status_code == 201
    add(client, "h2", customer="hooli", user="hank@hooli.example", ordered_at=ago(31))
    assert rows(client)["hooli"]["last_order"] == at29
    add(client, "h3", customer="hooli", user="ada@acme.example", ordered_at=ago(1))
    delete(client, "h3", customer="hooli", user="ada@acme.example")
    assert rows(client)["hooli"]["last_order"] == at29


def test_support_sees_the_name_only(client):
    """R5.8: support: name and group, every figure null; read_only and regular see the figures."""
    the_services(client)
    login(client, "umbrella", "uma@umbrella.example")
    rita = rows(client, "rita@acme.example")
    assert {k: rita["umbrella"][k] for k in FIGURES} == dict.fromkeys(FIGURES)
    assert (rita["umbrella"]["name"], rita["umbrella"]["group"]) == ("Umbrella Corp", "support")
    assert rita["initech"]["mrr_cents"] == 1400 and rita["initech"]["vcs"] == 3
    assert rows(client, "reggie@acme.example")["umbrella"]["last_activity"] is not None
    assert rows(client, "sam@acme.example")["initech"]["mrr_cents"] is None


def inactive_world(client) -> None:
    """initech bills; umbrella logged in 29 days ago; hooli ordered 29 days ago;
    stark did both 31 days ago; wayne never did anything; oscorp bills since 31 days."""
    add(client, "i1", billing_starts_at=ago(40))
    login(client, "umbrella", "uma@umbrella.example", at=ago(29))
    add(client, "h1", customer="hooli", user="ada@acme.example", ordered_at=ago(29))
    customer("stark", "Stark")
    customer("wayne", "Wayne")
    customer("oscorp", "Oscorp")
    login(client, "stark", "boss@stark.example", at=ago(31))
    add(client, "s1", customer="stark", user="ada@acme.example", ordered_at=ago(31),
        billing_starts_at=iso(utcnow() + timedelta(days=10)))
    add(client, "o1", customer="oscorp", user="ada@acme.example", ordered_at=ago(31),
        billing_starts_at=ago(31))


def test_hide_inactive_needs_all_three(client):
    """R5.9: left out only when order and activity are 30+ days old or never, and MRR is 0."""
    inactive_world(client)
    assert set(rows(client, hide_inactive="false")) == {
        "hooli", "initech", "umbrella", "stark", "wayne", "oscorp"}
    assert set(rows(client, hide_inactive="true")) == {"hooli", "initech", "umbrella", "oscorp"}
    assert page(client, hide_inactive="yes").status_code == 422


def test_masked_rows_are_never_hidden_and_sort_as_empty(client):
    """R5.10: rita holds stark as support: hide-inactive keeps it; figure sorts put it last."""
    inactive_world(client)
    with store.connection():
        directory.put_link("rita@acme.example", "stark", "support")
        directory.put_link("rita@acme.example", "oscorp", "regular")
    assert set(rows(client, "rita@acme.example", hide_inactive="true")) == {
        "initech", "umbrella", "stark", "oscorp"}
    for sort in ("mrr_cents", "-mrr_cents", "last_order", "-last_activity"):
        order = [r["customer_id"] for r in walk(client, "rita@acme.example", sort=sort)]
        assert order[-2:] == ["stark", "umbrella"], sort


def test_masked_rows_keep_their_set_and_order_under_sort_and_filter(client):
    """R5.10: support on some customers, regular on others: sorting by mrr_cents and hiding
    inactive rows leave the masked rows' set and relative order as with neither."""
    for i, (name, group, price, days) in enumerate([
            ("Kappa", "support", 900, 40), ("Alpha", "regular", 0, 40), ("Delta", "support", 0, 40),
            ("Beta", "support", 50, 1), ("Gamma", "regular", 700, 1), ("Eta", "support", 0, 0)]):
        cid = f"m{i}"
        customer(cid, name, {"lee@acme.example": group})
        if days:
            add(client, f"{cid}-s", customer=cid, user="ada@acme.example", price=price,
                ordered_at=ago(days), billing_starts_at=ago(days))

    def masked(**query) -> list[str]:
        return [r["customer_id"] for r in walk(client, "lee@acme.example", limit=2, **query)
                if r["group"] == "support"]

    plain = masked()
    assert plain == ["m3", "m2", "m5", "m0"]  # Beta, Delta, Eta, Kappa: by name
    for sort in ("mrr_cents", "-mrr_cents"):
        assert masked(sort=sort, hide_inactive="true") == plain
        assert masked(sort=sort) == plain
    assert masked(hide_inactive="true") == plain
    shown = [r["customer_id"] for r in walk(client, "lee@acme.example", sort="-mrr_cents",
                                            hide_inactive="true")]
    assert shown == ["m4", "m3", "m2", "m5", "m0"]  # Alpha (inactive, regular) left out


@pytest.mark.parametrize("sort", [s for column in SORTS for s in (column, "-" + column)])
def test_every_sort_pages_in_a_stable_order(client, sort):
    """R5.11: each column both ways, nulls last, ties by name then id; cursors visit each row once."""
    inactive_world(client)
    customer("twin-b", "Twin")
    customer("twin-a", "Twin")
    everything = walk(client, limit=50, sort=sort)
    one_by_one = walk(client, limit=1, sort=sort)
    assert one_by_one == everything and len(everything) == 8
    assert everything == expected_order(everything, sort)


def test_default_order_is_by_name(client):
    """R5.11: name by default, ties by customer_id."""
    customer("twin-b", "Twin")
    customer("twin-a", "Twin")
    assert [r["customer_id"] for r in walk(client)] == ["hooli", "initech", "twin-a", "twin-b",
                                                        "umbrella"]


def test_cursor_and_query_errors(client):
    """docs/api.md lists, R5.10: a tampered or foreign cursor, a bad limit or sort: 422."""
    first = page(client, limit=1).json["next_cursor"]
    middle = len(first) // 2  # a changed character that carries bits (not base64 padding)
    tampered = first[:middle] + ("A" if first[middle] != "A" else "B") + first[middle + 1:]
    assert page(client, limit=1, cursor=tampered).status_code == 422
    assert page(client, limit=1, cursor=first, sort="-name").status_code == 422
    assert page(client, "reggie@acme.example", limit=1, cursor=first).status_code == 422
    for query in ({"limit": 0}, {"limit": 501}, {"sort": "price"}, {"sort": "--name"}):
        assert page(client, **query).status_code == 422, query
    assert page(client, limit=1, cursor=first).status_code == 200
