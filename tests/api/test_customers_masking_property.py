"""R5.10 as a property: whatever happens in the customers a viewer holds as support, no
response field, order or cursor the viewer gets changes."""

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service import store
from authz_service.store import directory
from authz_service.store.models import utcnow
from tests.support.auth import bearer
from tests.support.customers import FIGURES, expected_order, walk
from tests.support.services import add, delete, iso, login

worlds = itertools.count()
GROUPS = ("support", "support", "regular", "read_only", "admin", None)
NAMES = ("Acme", "Beta", "Beta", "Core", "Dyna")  # repeated names: ties break by id

service = st.tuples(st.sampled_from(["port", "cloud_hosted", "virtual_circuit", "lag"]),
                    st.sampled_from([0, 0, 100, 2500]), st.integers(0, 60),
                    st.sampled_from([None, -40, -31, -29, -1, 10]), st.booleans())
customer = st.tuples(st.sampled_from(NAMES), st.sampled_from(GROUPS),
                     st.lists(service, max_size=3), st.sampled_from([None, 1, 29, 31, 45]))
change = st.tuples(st.lists(service, min_size=1, max_size=2), st.sampled_from([None, 0, 2, 29, 31]))
sorts = st.sampled_from([s for c in ("name", *FIGURES) for s in (c, "-" + c)])


def days(n: int) -> str:
    return iso(utcnow() - timedelta(days=n, minutes=1))


def fill(client, partner: str, cid: str, services: list, seen: int | None) -> None:
    """Services reported by the partner's admin (no activity), then a login of the customer's user."""
    for n, (kind, price, ordered, starts, is_deleted) in enumerate(services):
        sid = f"{cid}-{n}-{next(worlds)}"
        billing = None if starts is None else iso(utcnow() - timedelta(days=starts, minutes=1))
        response = add(client, sid, kind, price, customer=cid, user=f"admin@{partner}.example",
                       ordered_at=days(ordered), billing_starts_at=billing)
        assert response.status_code == 201, response.json
        if is_deleted:
            delete(client, sid, customer=cid, user=f"admin@{partner}.example")
    if seen is not None:
        assert login(client, cid, f"boss@{cid}.example", at=days(seen)).status_code == 204


def world(client, rows: list) -> tuple[str, list[str]]:
    """A fresh partner with the viewer linked as drawn; returns the viewer and the masked ids."""
    partner = f"w{next(worlds)}"
    with store.connection():
        directory.put_partner(partner, partner)
        directory.put_user(f"admin@{partner}.example", partner, "partner", "admin")
        directory.put_user(f"viewer@{partner}.example", partner, "partner", "read_only")
    masked = []
    for i, (name, group, services, seen) in enumerate(rows):
        cid = f"{partner}-c{i}"
        with store.connection():
            directory.put_customer(cid, name, partner)
            directory.put_user(f"boss@{cid}.example", cid, "customer", "admin")
            if group:
                directory.put_link(f"viewer@{partner}.example", cid, group)
        masked += [cid] if group == "support" else []
        fill(client, partner, cid, services, seen)
    return f"viewer@{partner}.example", masked


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(customer, min_size=1, max_size=5), changes=st.lists(change, max_size=5),
       sort=sorts, hide=st.booleans(), limit=st.integers(1, 3))
def test_masked_figures_never_reach_the_viewer(client, rows, changes, sort, hide, limit):
    """R5.8, R5.10: masked rows are all null, never hidden, ordered by what the viewer sees
    alone; changing them alters nothing in any page (items, order, cursors)."""
    viewer, masked = world(client, rows)
    partner = viewer.split("@")[1].split(".")[0]
    query = {"sort": sort, "hide_inactive": "true" if hide else "false"}

    def pages() -> list[dict]:
        out, cursor = [], None
        while True:
            body = client.get(f"/v1/partners/{partner}/customers", headers=bearer(), query_string={
                "user": viewer, "limit": limit, **query, **({"cursor": cursor} if cursor else {})}).json
            out.append(body)
            cursor = body["next_cursor"]
            if cursor is None:
                return out

    before = pages()
    items = [item for body in before for item in body["items"]]
    hidden = [i for i in items if i["customer_id"] in masked]
    assert all(i[f] is None for i in hidden for f in FIGURES)
    assert {i["customer_id"] for i in hidden} == set(masked)  # never left out (R5.10)
    assert items == expected_order(items, sort)  # the order follows what is shown, only
    for (services, seen), cid in zip(changes, itertools.cycle(masked or [None])):
        if cid is not None:
            fill(client, partner, cid, services, seen)
    assert pages() == before
    assert walk(client, viewer, partner=partner, limit=50, **query) == items
