"""Subject search and /access are exactly {u : authorize(u, A, C) allows} (R10.3), over HTTP, as a
property: random partners, customers, users and links; walked in small pages; checked again right
after each promotion, demotion, link and revoke made through the API (R4.6, R4.9).

The reference is POST /v1/authorize/batch, one call per user; the universe is the world's users
plus users of other accounts (a partner admin, a customer admin of the demo data), so a listed
outsider fails as a missing insider does.
"""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service import store
from authz_service.store import directory
from tests.support.auth import bearer
from tests.support.authzen import post

worlds = itertools.count()
GROUPS = ("admin", "regular", "read_only", "support")
OUTSIDERS = ["ada@acme.example", "gina@globex.example", "ian@initech.example", "rita@acme.example"]
ACTIONS = ("port.view", "port.create", "billing.view", "user.manage", "invoice.download", "port.edit")

person = st.tuples(st.integers(0, 4), st.sampled_from(GROUPS))  # (home account index, group)
link_row = st.tuples(st.integers(0, 9), st.integers(0, 2), st.sampled_from(GROUPS))  # (user, customer, group)
change = st.one_of(st.tuples(st.just("group"), st.integers(0, 9), st.sampled_from(GROUPS)),
                   st.tuples(st.just("link"), st.integers(0, 9), st.integers(0, 2), st.sampled_from(GROUPS)),
                   st.tuples(st.just("revoke"), st.integers(0, 9), st.integers(0, 2)))


def build(owners: list[int], people: list[tuple], link_rows: list[tuple]) -> dict:
    """A fresh world of two partners, each with an admin who is never changed (the reader and
    linker), customers, users homed anywhere in it, and links (any row the store keeps, R4.9)."""
    n = next(worlds)
    partners = [f"s{n}p0", f"s{n}p1"]
    customers = {f"s{n}c{i}": partners[owner] for i, owner in enumerate(owners)}
    accounts = partners + list(customers)
    boss = {p: f"boss@{p}.example" for p in partners}
    users = {}
    with store.connection():
        for p in partners:
            directory.put_partner(p, f"Partner {p}")
            directory.put_user(boss[p], p, "partner", "admin")
        for c, p in customers.items():
            directory.put_customer(c, f"Customer {c}", p)
        for i, (home, group) in enumerate(people):
            account = accounts[home % len(accounts)]
            users[f"u{i}@{account}.example"] = account
            directory.put_user(f"u{i}@{account}.example", account, "partner" if account in partners else "customer",
                               group)
        emails = sorted(users)
        for who, customer, group in link_rows:
            if emails:
                directory.put_link(emails[who % len(emails)], list(customers)[customer % len(customers)], group)
    return {"customers": customers, "users": users, "boss": boss}


def apply(client, world: dict, kind: str, who: int, *rest) -> None:
    """One change through the API, as the customer's partner admin; a refusal (409) changes nothing."""
    emails = sorted(world["users"])
    if not emails:
        return
    email = emails[who % len(emails)]
    home = world["users"][email]
    customers = sorted(world["customers"])
    if kind == "group":
        kind_of = "partners" if home in world["boss"] else "customers"
        response = client.put(f"/v1/{kind_of}/{home}/users/{email}", json={"group": rest[0]}, headers=bearer())
    else:
        customer = customers[rest[0] % len(customers)]
        actor = world["boss"][world["customers"][customer]]
        path = f"/v1/customers/{customer}/links/{email}"
        response = (client.put(path, json={"user": actor, "group": rest[1]}, headers=bearer()) if kind == "link"
                    else client.delete(path, query_string={"user": actor}, headers=bearer()))
    assert response.status_code in (200, 201, 204, 404, 409), response.json


def allowed(client, everyone: list[str], customers: list[str], actions: list[str]) -> dict:
    """{(customer, action): {email: group}} of every allow POST /v1/authorize/batch gives."""
    found: dict = {(c, a): {} for c in customers for a in actions}
    checks = [{"action": a, "account": c} for c in customers for a in actions]
    for email in everyone:
        response = client.post("/v1/authorize/batch", json={"user": email, "checks": checks}, headers=bearer())
        assert response.status_code == 200, response.json
        for check, result in zip(checks, response.json["results"], strict=True):
            if result["allowed"]:
                found[(check["account"], check["action"])][email] = result["group"]
    return found


def searched(client, customer: str, action: str, limit: int) -> list[tuple]:
    """Every subject search result, page by page: (email, group, via)."""
    body = {"subject": {"type": "user"}, "action": {"name": action}, "resource": {"type": "account", "id": customer}}
    found, token = [], ""
    while True:
        response = post(client, "search/subject", {**body, "page": {"limit": limit, **({"token": token} if token else {})}})
        assert response.status_code == 200, response.json
        assert len(response.json["results"]) <= limit
        found += [(r["id"], r["properties"]["group"], r["properties"]["via"]) for r in response.json["results"]]
        token = response.json["page"]["next_token"]
        if not token:
            return found


def listed(client, customer: str, action: str, reader: str, limit: int) -> list[tuple]:
    """Every GET /v1/customers/{id}/access item, page by page: (email, group, via)."""
    found, cursor = [], None
    while True:
        query = {"user": reader, "action": action, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/v1/customers/{customer}/access", query_string=query, headers=bearer())
        assert response.status_code == 200, response.json
        assert len(response.json["items"]) <= limit
        found += [(i["email"], i["group"], i["via"]) for i in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return found


def check(client, world: dict, actions: list[str], limit: int, after) -> None:
    customers = sorted(world["customers"])
    everyone = sorted([*world["users"], *world["boss"].values(), *OUTSIDERS])
    truth = allowed(client, everyone, customers, actions)
    for customer, action in itertools.product(customers, actions):
        reader = world["boss"][world["customers"][customer]]
        search, access = searched(client, customer, action, limit), listed(client, customer, action, reader, limit)
        assert search == access, (customer, action, after)
        assert [(e, g) for e, g, _ in search] == sorted(truth[(customer, action)].items()), (customer, action, after)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owners=st.lists(st.integers(0, 1), min_size=1, max_size=3), people=st.lists(person, max_size=8),
       link_rows=st.lists(link_row, max_size=6), changes=st.lists(change, max_size=3),
       actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True), limit=st.integers(1, 3))
def test_search_and_access_are_who_authorize_allows(client, owners, people, link_rows, changes, actions, limit):
    """Equal to each other, page by page, and to /v1/authorize; again right after every change."""
    world = build(owners, people, link_rows)
    check(client, world, actions, limit, after=None)
    for kind, *rest in changes:
        apply(client, world, kind, *rest)
        check(client, world, actions, limit, after=(kind, *rest))
