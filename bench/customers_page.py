"""The Customers page at scale: 100k customers and 1M services in SQLite, against 1k customers.

Bulk-loads two partners into one database with raw executemany, brings their
figures up to date once, then times pages through the Flask app in-process:
a partner admin's first page (hide_inactive, -mrr_cents), a page for a user
linked to 500 customers (support on half, regular on the other half), and a
20-page cursor walk. Prints medians and the 100k/1k ratios; exits 0 unless
--strict and a target is missed (each page < 50 ms median; 100k within 2x of 1k).

    .venv/bin/python bench/customers_page.py [--strict]
    .venv/bin/python bench/customers_page.py --quick   # a smoke run: 2,000 customers, 3 pages each
"""

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time

from authz_service import store
from authz_service.app import create_app
from authz_service.store import summary
from authz_service.store.models import to_micros, utcnow

KEY = "bench-bootstrap-key-0123456789"
KINDS = ["port", "port", "lag", "cross_connect", "cloud_hosted", "cloud_dedicated",
         "cloud_router", "point_to_point", "virtual_circuit", "virtual_circuit"]
DAY = 86_400_000_000  # µs


def _service(rng: random.Random, index: int, customer: str, now: int) -> tuple:
    ordered = now - rng.randrange(120 * DAY)
    roll = rng.random()
    if roll < 0.7:
        starts = min(ordered + rng.randrange(15 * DAY), now - 1)  # billing
    elif roll < 0.9:
        starts = now + rng.randrange(1, 30) * DAY  # starts later: not in MRR yet
    else:
        starts = None
    deleted = now - rng.randrange(DAY) if rng.random() < 0.05 else None
    return (f"{customer}-s{index:07d}", customer, rng.choice(KINDS), rng.choice([0, 4900, 12000, 45000]),
            ordered, starts, ordered, deleted)


def load(path: str, partner: str, customers: int, services: int, seed: int = 7) -> None:
    """One partner, its customers and services, an admin and a user linked to 500 customers."""
    rng, now = random.Random(seed), to_micros(utcnow())
    created = str(utcnow())
    ids = [f"{partner}-c{i:06d}" for i in range(customers)]
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    db.execute("INSERT INTO account (id, kind, name, partner_id, created_at) VALUES (?, ?, ?, ?, ?)",
               (partner, "partner", partner, None, created))
    db.executemany("INSERT INTO account (id, kind, name, partner_id, created_at) VALUES (?, ?, ?, ?, ?)",
                   [(c, "customer", f"Customer {rng.randrange(10**9):09d}", partner, created) for c in ids])
    db.executemany('INSERT INTO "user" (email, account_id, grp, created_at) VALUES (?, ?, ?, ?)',
                   [(f"admin@{partner}.example", partner, "admin", created),
                    (f"mixed@{partner}.example", partner, "read_only", created)])
    linked = rng.sample(ids, 500)
    db.executemany("INSERT INTO link (user_email, customer_id, grp, linked_at) VALUES (?, ?, ?, ?)",
                   [(f"mixed@{partner}.example", c, ("support", "regular")[i % 2], created)
                    for i, c in enumerate(linked)])
    owners = sorted(rng.randrange(customers) for _ in range(services))  # in key order: fast
    db.executemany("INSERT INTO service (id, customer_id, kind, monthly_price_cents, ordered_at, "
                   "billing_starts_at, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (_service(rng, i, ids[c], now) for i, c in enumerate(owners)))
    db.commit()
    with store.connection():
        store.database.execute_sql("PRAGMA cache_size = -262144")  # 256 MB for the bulk update
        summary.rebuild(partner, utcnow())
    db.executemany("UPDATE customer_figures SET last_activity = ? WHERE customer_id = ?",
                   [(now - rng.randrange(90 * DAY), c) for c in ids if rng.random() < 0.5])
    db.commit()
    db.close()


def timed(client, partner: str, user: str, **query) -> tuple[float, dict]:
    """(ms, body) of one page."""
    start = time.perf_counter()
    response = client.get(f"/v1/partners/{partner}/customers", query_string={"user": user, **query},
                          headers={"Authorization": f"Bearer {KEY}"})
    took = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.json
    return took, response.json


def measure(client, partners: tuple[str, ...], reps: int) -> tuple[dict, dict]:
    """Every page kind for each partner, taken in turns so all meet the same noise.

    Returns ({(partner, kind): [ms]}, {partner: facts about the pages, to check them})."""
    got: dict[tuple, list] = {}
    seen: dict[str, dict] = {p: {} for p in partners}
    for rep in range(reps):
        for partner in partners:
            admin, mixed = f"admin@{partner}.example", f"mixed@{partner}.example"
            took, body = timed(client, partner, admin, hide_inactive="true", sort="-mrr_cents")
            got.setdefault((partner, "admin first page"), []).append(took)
            took, body = timed(client, partner, mixed, sort="-mrr_cents")
            got.setdefault((partner, "linked 500 page"), []).append(took)
            if rep % 10:
                continue
            cursor, walked = None, []
            for _ in range(20):
                took, body = timed(client, partner, admin, **({"cursor": cursor} if cursor else {}))
                got.setdefault((partner, "walk page"), []).append(took)
                walked += [i["customer_id"] for i in body["items"]]
                cursor = body["next_cursor"]
            seen[partner]["walked"] = walked
    for partner in partners:  # untimed: the same user's first page by name
        body = timed(client, partner, f"mixed@{partner}.example")[1]
        seen[partner]["masked"] = {i["group"] for i in body["items"] if i["mrr_cents"] is None}
        seen[partner]["shown"] = {i["group"] for i in body["items"] if i["mrr_cents"] is not None}
    return got, seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2,000 customers and 20,000 services against 1,000, 3 pages each")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.services, args.reps = 2_000, 20_000, 3
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        app = create_app({"database_url": f"sqlite:///{path}", "bootstrap_key": KEY,
                          "policy_poll_seconds": 0}, migrate=True)
        started = time.perf_counter()
        load(path, "small", 1_000, 10_000)
        load(path, "big", args.customers, args.services)
        loaded = time.perf_counter() - started
        client = app.test_client()
        got, seen = measure(client, ("small", "big"), args.reps)
        store.close()
    print(f"bench/customers_page.py: SQLite, in-process Flask; {args.customers:,} customers and "
          f"{args.services:,} services against 1,000 and 10,000 (loaded in {loaded:.1f} s); "
          f"median (p95) of {args.reps} pages, 20 per walk")
    ok = True
    for name in ("admin first page", "linked 500 page", "walk page"):
        small, big = (statistics.median(got[p, name]) for p in ("small", "big"))
        p95 = [statistics.quantiles(got[p, name], n=20)[18] for p in ("small", "big")]
        ok &= big < 50 and small < 50 and big / small <= 2
        print(f"  {name:17s} 1k {small:6.2f} ({p95[0]:6.2f}) ms   {args.customers // 1000}k "
              f"{big:6.2f} ({p95[1]:6.2f}) ms   ratio {big / small:4.2f}")
    walked = seen["big"]["walked"]
    print(f"  walk: {len(walked)} rows, {len(set(walked))} distinct; linked user's page by name: "
          f"MRR masked for {sorted(seen['big']['masked'])}, shown for {sorted(seen['big']['shown'])}")
    print("PASS" if ok else "FAIL", "each page < 50 ms median, and within 2x of the 1k partner")
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
