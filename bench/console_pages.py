"""The console's pages on large data (issue 21, docs/decisions/036-console.md): the Activity page
(first 50 entries, the chart of allowed and denied per day, the most denied actions and users)
over a log of 1,000,000 entries, for all accounts and for one busy account; and Who has access
for a customer with 1,000 users.

Each process keeps running totals per filter (log/activity_stats.py), so the first view of a
filter counts the whole log (printed apart, as "cold") and later ones only the entries appended
since: 100 are appended before each timed round. Bulk-loads a partner with 100 customers and 2,000 users (1,000 linked to one customer) and the
log's rows (30 days, 20% denied, a third of them in the busy account) with raw inserts, signs in
to the console with the bootstrap key and times GET requests through the Flask app in-process.
Prints medians (p95); targets: Activity <= 200 ms median, Who has access <= 100 ms median; exits
0 unless --strict and a target is missed.

    .venv/bin/python bench/console_pages.py [--strict] [--entries N]
    .venv/bin/python bench/console_pages.py --quick   # a smoke run: 20,000 entries, 3 rounds
"""

import argparse
import hashlib
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta

from authz_service import store
from authz_service.app import create_app
from authz_service.store import decisions

KEY = "bench-bootstrap-key-0123456789"
PARTNER, BIG = "p", "p-c000"
ACTIONS = ["port.view", "port.create", "billing.view", "virtual_circuit.edit", "account.view", "invoice.download"]
GROUPS = ["regular", "read_only", "support"]
TARGETS = {"activity, all accounts": "/console/activity",
           "activity, one account": f"/console/activity?account={BIG}",
           "activity, one account, denied, text": f"/console/activity?account={BIG}&allowed=false&q=port",
           "who has access (1,000 users)": f"/console/access?customer={BIG}"}
LIMITS = {"activity, all accounts": 200, "activity, one account": 200, "who has access (1,000 users)": 100}


def directory_rows(users: int, customers: int, linked: int, now: str) -> dict[str, list[tuple]]:
    """The partner, its customers and users, and the links (1,000 on the big customer)."""
    rng = random.Random(3)
    ids = [f"p-c{i:03d}" for i in range(customers)]
    account = [(PARTNER, "partner", "Partner", None, now)] + [(c, "customer", f"Customer {c}", PARTNER, now) for c in ids]
    staff = [f"u{i:05d}@p.example" for i in range(users)]
    user = [("admin@p.example", PARTNER, "admin", now)] + [(e, PARTNER, rng.choice(GROUPS), now) for e in staff]
    link = [(e, BIG, rng.choice(GROUPS), now) for e in staff[:linked]]
    return {"account": account, "user": user, "link": link}


def log_rows(entries: int, customers: int, users: int, start: datetime):
    """The log's rows, oldest first, over 30 days: 20% denied, a third in the busy account."""
    rng, step = random.Random(5), timedelta(days=30) / entries
    for seq in range(1, entries + 1):
        account = BIG if rng.random() < 0.33 else f"p-c{rng.randrange(customers):03d}"
        allowed = rng.random() >= 0.2
        digest = hashlib.sha256(str(seq).encode()).hexdigest()
        yield (digest[:32], seq, "0" * 64, digest, str(start + step * seq), f"u{rng.randrange(users):05d}@p.example",
               account, account, rng.choice(ACTIONS), "port", f"svc-{rng.randrange(10**6)}", int(allowed),
               "support", "policies/policy.csv:12", "allowed by the group's permission" if allowed else "denied: no rule",
               None, "bench", PARTNER, 0)


COLUMNS = {"account": "id, kind, name, partner_id, created_at", "user": "email, account_id, grp, created_at",
           "link": "user_email, customer_id, grp, linked_at",
           "decision": "id, seq, prev_hash, hash, at, user_email, account_id, log_account, action, resource_type, "
                       "resource_id, allowed, grp, rule, reason, session_id, caller, on_behalf_of_partner, altered"}


def load(path: str, args) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    now = datetime(2026, 12, 1)
    tables = {**directory_rows(args.users, args.customers, args.linked, str(now)),
              "decision": log_rows(args.entries, args.customers, args.users, now - timedelta(days=30))}
    for table, rows in tables.items():
        marks = ", ".join("?" * len(COLUMNS[table].split(",")))
        db.executemany(f'INSERT INTO "{table}" ({COLUMNS[table]}) VALUES ({marks})', rows)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def sign_in(client) -> None:
    page = client.get("/console/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/console/signin", data={"key": KEY, "csrf_token": token}).status_code == 302


def append(path: str, args, first_seq: int, count: int) -> None:
    """`count` more entries after `first_seq - 1`, as the log writer would append them, now; the
    Activity rollup counts them only once folded (decision 044), so a view counts them from the log."""
    db = sqlite3.connect(path)
    rows = list(log_rows(count, args.customers, args.users, datetime(2026, 12, 1)))
    db.executemany(f'INSERT INTO "decision" ({COLUMNS["decision"]}) VALUES ({", ".join("?" * 19)})',
                   [(f"n{first_seq + i:031d}", first_seq + i, *row[2:]) for i, row in enumerate(rows)])
    db.commit()
    db.close()


def roll_up() -> float:
    """Fold the bulk-loaded entries into the Activity rollup, as the log writer does behind
    itself (decision 044); the seconds it took."""
    started = time.perf_counter()
    with store.connection():
        while decisions.fold_rollup(100_000)[0]:
            pass
    return time.perf_counter() - started


def measure(client, path: str, args) -> tuple[dict[str, float], dict[str, list[float]]]:
    """(the first view of each page, cold; `reps` views each, 100 entries appended before each
    round); every answer checked for what it must show."""
    cold: dict[str, float] = {}
    got: dict[str, list[float]] = {name: [] for name in TARGETS}
    for rep in range(-1, args.reps):
        if rep >= 0:
            append(path, args, args.entries + 1 + rep * 100, 100)
        for name, target in TARGETS.items():
            start = time.perf_counter()
            response = client.get(target)
            took = (time.perf_counter() - start) * 1000
            body = response.get_data(as_text=True)
            assert response.status_code == 200 and ('id="chart"' in body or "partner admin" in body), name
            if rep < 0:
                cold[name] = took
            else:
                got[name].append(took)
    return cold, got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--linked", type=int, default=1_000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 entries, 3 rounds; no timing asserted")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.reps = 20_000, 3
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/bench.db"
        app = create_app({"database_url": f"sqlite:///{path}", "bootstrap_key": KEY, "policy_poll_seconds": 0},
                         migrate=True)
        started = time.perf_counter()
        load(path, args)
        loaded = time.perf_counter() - started
        rolled = roll_up()
        try:
            client = app.test_client()
            sign_in(client)
            cold, got = measure(client, path, args)
        finally:
            store.close()
    print(f"bench/console_pages.py: SQLite, in-process Flask; {args.entries:,} log entries over 30 days, "
          f"{args.linked:,} users on one customer (loaded in {loaded:.1f} s, rolled up in {rolled:.1f} s); median (p95) of {args.reps} views, "
          f"100 entries appended before each; the first view of each filter (cold) apart")
    for name, times in got.items():
        median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
        target = LIMITS.get(name)
        ok &= target is None or median <= target
        print(f"  {name:38s} {median:8.1f} ({p95:8.1f}) ms   cold {cold[name]:8.1f} ms"
              + (f"   target <= {target} ms" if target else ""))
    print("PASS" if ok else "FAIL", "every page within its target (median)")
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
