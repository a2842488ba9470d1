"""Subject search at scale: who may act on a customer with 1,000 linked users, in a partner of 10,000
users and 100,000 customers, against a customer with 10 (R10.3; docs/decisions/027-who-can-act.md).

Bulk-loads the partner (its users, its customers each with a home admin, ten links per non-admin
user on random customers, 1,000 on the big customer and 10 on the small one) with raw inserts, then
times, through the Flask app in-process, POST /access/v1/search/subject for `port.view` (each
recorded once, as the key that asked): the first page (default limit 50), a page of 500, and the
whole walk in pages of 500; the same for GET /v1/customers/{id}/access's first page. Prints
medians (p95) and the big/small ratios; exits 0 unless --strict and the target is missed (the
first page of the search <= 20 ms median).

    .venv/bin/python bench/access_search.py [--strict] [--postgres URL]
    .venv/bin/python bench/access_search.py --quick   # a smoke run: 1,000 users, 5,000 customers
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
from authz_service.store.models import utcnow

KEY = "bench-bootstrap-key-0123456789"
PARTNER, BIG, SMALL = "p", "p-c000000", "p-c000001"
ADMIN = "admin000@p.example"
GROUPS = ["regular", "read_only", "support"]


def rows(users: int, customers: int, linked: int, seed: int = 7) -> dict[str, list[tuple]]:
    """The partner's accounts, users and links, as rows for the account, user and link tables."""
    rng, now = random.Random(seed), utcnow()
    ids = [f"p-c{i:06d}" for i in range(customers)]
    account = [(PARTNER, "partner", "Partner", None, now)]
    account += [(c, "customer", f"Customer {rng.randrange(10**9):09d}", PARTNER, now) for c in ids]
    admins = [f"admin{i:03d}@p.example" for i in range(10)]
    staff = [f"u{i:05d}@p.example" for i in range(users - len(admins))]
    user = [(e, PARTNER, "admin", now) for e in admins] + [(e, PARTNER, rng.choice(GROUPS), now) for e in staff]
    user += [(f"admin@{c}.example", c, "admin", now) for c in ids]
    links = {(e, BIG): rng.choice(GROUPS) for e in rng.sample(staff, linked)}
    links |= {(e, SMALL): rng.choice(GROUPS) for e in rng.sample(staff, 10)}
    for e in staff:
        links |= {(e, ids[rng.randrange(2, customers)]): rng.choice(GROUPS) for _ in range(10)}
    return {"account": account, "user": user,
            "link": [(e, c, g, now) for (e, c), g in links.items()]}


COLUMNS = {"account": "id, kind, name, partner_id, created_at", "user": "email, account_id, grp, created_at",
           "link": "user_email, customer_id, grp, linked_at"}


def load_sqlite(path: str, data: dict) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    for table, columns in COLUMNS.items():
        marks = ", ".join("?" * len(columns.split(",")))
        db.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
                       [tuple(str(v) if hasattr(v, "isoformat") else v for v in row) for row in data[table]])
    db.commit()
    db.execute("ANALYZE")
    db.close()


def empty_postgres(url: str) -> None:
    """Drop this service's tables from the scratch PostgreSQL (as the test suites do)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()]
        if tables:
            conn.execute("DROP TABLE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def load_postgres(url: str, data: dict) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for table, columns in COLUMNS.items():
            with conn.cursor().copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in data[table]:
                    copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


def search(client, customer: str, limit: int | None = None, token: str = "") -> tuple[float, dict]:
    """(ms, body) of one subject search page."""
    page = {**({"limit": limit} if limit else {}), **({"token": token} if token else {})}
    body = {"subject": {"type": "user"}, "action": {"name": "port.view"},
            "resource": {"type": "account", "id": customer}, **({"page": page} if page else {})}
    start = time.perf_counter()
    response = client.post("/access/v1/search/subject", json=body, headers={"Authorization": f"Bearer {KEY}"})
    took = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.json
    return took, response.json


def access_page(client, customer: str) -> float:
    start = time.perf_counter()
    response = client.get(f"/v1/customers/{customer}/access", query_string={"user": ADMIN, "action": "port.view"},
                          headers={"Authorization": f"Bearer {KEY}"})
    took = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.json
    return took


def walk(client, customer: str) -> tuple[float, int]:
    """(ms, users found) of the whole search in pages of 500."""
    total, found, token = 0.0, 0, ""
    while True:
        took, body = search(client, customer, 500, token)
        total, found, token = total + took, found + len(body["results"]), body["page"]["next_token"]
        if not token:
            return total, found


def measure(client, reps: int) -> tuple[dict, dict]:
    """Each kind of request for both customers, taken in turns so both meet the same noise."""
    got: dict[tuple, list] = {}
    found: dict[str, int] = {}
    for _ in range(reps):
        for customer in (SMALL, BIG):
            got.setdefault((customer, "search, first page (50)"), []).append(search(client, customer)[0])
            got.setdefault((customer, "search, page of 500"), []).append(search(client, customer, 500)[0])
            took, found[customer] = walk(client, customer)
            got.setdefault((customer, "search, whole walk (500s)"), []).append(took)
            got.setdefault((customer, "/access first page (50)"), []).append(access_page(client, customer))
    return got, found


def run(url: str, load, data: dict, reps: int) -> tuple[dict, dict, float]:
    app = create_app({"database_url": url, "bootstrap_key": KEY, "policy_poll_seconds": 0}, migrate=True)
    started = time.perf_counter()
    load(data)
    loaded = time.perf_counter() - started
    try:
        got, found = measure(app.test_client(), reps)
    finally:
        store.close()
    return got, found, loaded


def report(title: str, got: dict, found: dict, loaded: float, reps: int, linked: int) -> bool:
    print(f"{title} (loaded in {loaded:.1f} s); median (p95) of {reps}; found {found[BIG]} and {found[SMALL]} users")
    ok = True
    for name in sorted({k for _, k in got}):
        small, big = (statistics.median(got[c, name]) for c in (SMALL, BIG))
        p95 = [statistics.quantiles(got[c, name], n=20)[18] for c in (SMALL, BIG)]
        if name.startswith("search, first page"):
            ok = big <= 20
        print(f"  {name:26s} 10 linked {small:6.2f} ({p95[0]:6.2f}) ms   {linked:,} linked {big:6.2f} ({p95[1]:6.2f}) ms"
              f"   ratio {big / small:4.2f}")
    print("PASS" if ok else "FAIL", f"the search's first page for the {linked:,}-linked customer <= 20 ms median")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--linked", type=int, default=1_000)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--postgres", default="",
                        help="also on this PostgreSQL (a scratch database: the service's tables are dropped)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1,000 users, 5,000 customers, 100 linked, 3 rounds; no timing asserted")
    args = parser.parse_args()
    if args.quick:
        args.users, args.customers, args.linked, args.reps = 1_000, 5_000, 100, 3
    data = rows(args.users, args.customers, args.linked)
    scale = (f"{args.users:,} users, {args.customers:,} customers, {len(data['link']):,} links; "
             f"{args.linked:,} linked to one customer, 10 to another")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        got, found, loaded = run(f"sqlite:///{path}", lambda d: load_sqlite(path, d), data, args.reps)
        ok &= report(f"bench/access_search.py: SQLite, in-process Flask; {scale}", got, found, loaded, args.reps, args.linked)
    if args.postgres:
        empty_postgres(args.postgres)
        got, found, loaded = run(args.postgres, lambda d: load_postgres(args.postgres, d), data, args.reps)
        ok &= report("PostgreSQL, in-process Flask, the same data", got, found, loaded, args.reps, args.linked)
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
