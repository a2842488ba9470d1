"""The decision log partitioned by month on PostgreSQL (migration 11; docs/decisions/
038-log-partitions.md; docs/performance.md): the same entries in a partitioned and in an
unpartitioned (version 10) decision table, then, in one run,

1. an account's activity page (decisions.page, newest first, 50 entries), and the same page
   bounded to one month, on each table: median and p95 latency, and their ratio;
2. retention of all months but the last (`authz log archive`'s drop step, decisions.drop_through):
   whole partitions dropped vs the same rows deleted one by one, and the ratio; then the
   VACUUM each table needs afterwards, and the log's size on disk before and after it.

    .venv/bin/python bench/log_retention.py [--postgres URL] [--months N] [--per-month N]
    .venv/bin/python bench/log_retention.py --quick    # 3 months of 5,000 entries

PostgreSQL: --postgres, else AUTHZ_TEST_POSTGRES_URL; the bench makes and drops its own
databases there. Without one it says so and measures nothing (SQLite is never partitioned).

Longer than 200 lines: the fill, the timed pages, retention and the report read together.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


ACCOUNTS = 1000
START = datetime(2026, 1, 1)


def _months(count: int) -> list[datetime]:
    from authz_service.store import partitions

    months = [START]
    while len(months) < count:
        months.append(partitions.next_month(months[-1]))
    return months


def fill(url: str, months: list[datetime], per_month: int, partitioned: bool) -> float:
    """The same entries on either table: `per_month` spread over each month, 1,000 a batch;
    the seconds spent in chain.write."""
    from authz_service import store
    from authz_service.log import chain
    from authz_service.store import migrations, partitions
    from authz_service.store.models import database

    db, kept = store.connect(url, migrate=False), migrations.MIGRATIONS
    if not partitioned:  # a version 10 database: the plain table
        migrations.MIGRATIONS = [s for s in kept if s[0] < 11]
    with store.connection():
        migrations.run(db)
    migrations.MIGRATIONS = kept
    with store.connection():
        if partitioned:
            with database.atomic():
                for month in months:
                    if month not in partitions.months(database.obj):
                        partitions.add_month(database.obj, month)
        spent = 0.0
        for month in months:
            step = (partitions.next_month(month) - month) / per_month
            for first in range(0, per_month, 1000):
                batch = [_entry(month, step, n) for n in range(first, min(per_month, first + 1000))]
                began = time.perf_counter()
                chain.write([chain.Ticket(batch, None)])
                spent += time.perf_counter() - began
        database.execute_sql('ANALYZE "decision"')
    return spent


def _entry(month: datetime, step: timedelta, n: int):
    from authz_service.log import chain

    account = f"c{(n * 7919) % ACCOUNTS:04d}"
    return chain._prepare({"at": month + step * n, "user_email": f"u{n % 97}@acme.example",
                           "account_id": account, "log_account": account, "action": "port.view",
                           "allowed": n % 3 != 0, "group": "regular", "rule": "policies/services.csv:10",
                           "reason": "bench", "caller": "bench"})


def pages(dbs: dict, samples: int, month: datetime | None) -> dict:
    """For each table: (median, p95) ms of an account's first page over random accounts
    (bounded to `month`), the tables taking turns sample by sample, and the plan's shape."""
    from authz_service import store
    from authz_service.store import decisions, partitions
    from authz_service.store.models import database

    rng, took = random.Random(7), {kind: [] for kind in dbs}
    for sample in range(samples):
        account = f"c{rng.randrange(ACCOUNTS):04d}"
        filters = {"account_id": account, "log_account": account}
        if month is not None:
            filters.update(since=month, until=partitions.next_month(month))
        for kind in sorted(dbs, reverse=sample % 2 == 1):  # neither always first
            database.initialize(dbs[kind])
            with store.connection():
                began = time.perf_counter()
                items, _ = decisions.page(filters, None, 50)
                took[kind].append((time.perf_counter() - began) * 1000)
            assert items
    found = {}
    for kind, times in took.items():
        times.sort()
        database.initialize(dbs[kind])
        found[kind] = statistics.median(times), times[int(len(times) * 0.95)], _shape(filters)
    return found


def _shape(filters: dict) -> str:
    """The kinds of node in PostgreSQL's plan of the last page's query (why the times differ)."""
    from authz_service import store
    from authz_service.store import decisions
    from authz_service.store.models import database

    seen: list = []
    real = decisions.tuples
    decisions.tuples = lambda query: seen.append(query.sql()) or []
    try:
        with store.connection():
            decisions.page(filters, None, 50)
            (plan,), = database.execute_sql("EXPLAIN (FORMAT JSON) " + seen[0][0], seen[0][1]).fetchone()
    finally:
        decisions.tuples = real
    kinds, todo = [], [plan["Plan"]]
    while todo:
        node = todo.pop(0)
        todo.extend(node.get("Plans", []))
        kind = node["Node Type"] + (" Backward" if node.get("Scan Direction") == "Backward" else "")
        if kind not in kinds:
            kinds.append(kind)
    return " > ".join(kinds)


def retention(before: datetime) -> tuple[float, int]:
    """Seconds of the drop step of archiving every entry before `before`; entries it removed."""
    from authz_service import store
    from authz_service.store import decisions
    from authz_service.store.models import Decision

    with store.connection():
        anchor = decisions.anchor()
        seq, last_hash = (Decision.select(Decision.seq, Decision.hash).where(Decision.at < before)
                          .order_by(Decision.seq.desc()).limit(1).tuples().first())
        count = Decision.select().where(Decision.seq <= seq).count()
        began = time.perf_counter()
        decisions.drop_through(anchor, seq, last_hash, before)
        return time.perf_counter() - began, count


def vacuum(url: str) -> tuple[float, int, int]:
    """(seconds of VACUUM "decision", bytes of the log's tables and indexes before it, after)."""
    import psycopg

    size = ("SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class AS c WHERE c.oid = 'decision'::regclass "
            "OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'decision'::regclass)")
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute(size).fetchone()[0]
        began = time.perf_counter()
        conn.execute('VACUUM "decision"')
        took = time.perf_counter() - began
        return took, before, conn.execute(size).fetchone()[0]


def _databases(url: str, names: list[str]) -> tuple[dict, object]:
    """Fresh databases on the server of `url`, by name; and a function dropping them."""
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    made = {name: f"bench_retention_{os.getpid()}_{name}" for name in names}
    with psycopg.connect(admin, autocommit=True) as conn:
        for real in made.values():
            conn.execute(f'CREATE DATABASE "{real}"')

    def drop(dbs: dict) -> None:
        for db in dbs.values():
            db.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            for real in made.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{real}" WITH (FORCE)')

    return {name: url.rsplit("/", 1)[0] + "/" + real for name, real in made.items()}, drop


def measure(urls: dict, months: list[datetime], per_month: int, samples: int, dbs: dict) -> dict:
    """Both tables filled alike, their pages timed in turns, then each one's retention."""
    from authz_service.store.models import database

    found: dict = {"filled": {}, "retention": {}, "vacuum": {}}
    for kind, url in urls.items():
        found["filled"][kind] = fill(url, months, per_month, kind == "partitioned")
        dbs[kind] = database.obj
    found["page"] = pages(dbs, samples, None)
    found["month"] = pages(dbs, samples, months[-2])
    for kind, url in urls.items():
        database.initialize(dbs[kind])
        found["retention"][kind] = retention(months[-1])
        found["vacuum"][kind] = vacuum(url)
    return found


def report(found: dict, months: int, per_month: int) -> None:
    total = months * per_month
    print(f"{total:,} entries over {months} months, {ACCOUNTS} accounts; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"0. writing them (chain.write, 1,000 a batch): partitioned "
          f"{total / found['filled']['partitioned']:,.0f} entries/s, plain {total / found['filled']['plain']:,.0f} entries/s")
    for key, label in (("page", "1. an account's page, newest first"), ("month", "1. the same page, one month")):
        (pm, pp, ps), (um, up, us) = found[key]["partitioned"], found[key]["plain"]
        print(f"{label}: partitioned median {pm:.2f} ms (p95 {pp:.2f}), plain {um:.2f} ms (p95 {up:.2f}); "
              f"partitioned / plain {pm / um:.2f}\n   plans: partitioned {ps}; plain {us}")
    (ps, pn), (us, un) = found["retention"]["partitioned"], found["retention"]["plain"]
    assert pn == un
    print(f"2. retention of {months - 1} months ({pn:,} entries): partition drop {ps * 1000:.0f} ms, "
          f"row DELETE {us * 1000:.0f} ms; DELETE / drop {us / ps:.1f}x")
    (pv, pb, pa), (uv, ub, ua) = found["vacuum"]["partitioned"], found["vacuum"]["plain"]
    print(f"2. then VACUUM: partitioned {pv * 1000:.0f} ms, {pb / 2**20:.0f} MiB before and {pa / 2**20:.0f} after; "
          f"plain {uv * 1000:.0f} ms, {ub / 2**20:.0f} MiB before and {ua / 2**20:.0f} after (VACUUM frees "
          f"deleted rows for reuse, it does not shrink the files); (DELETE + VACUUM) / drop "
          f"{(us + uv) / ps:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("AUTHZ_TEST_POSTGRES_URL"))
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--per-month", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.months, args.per_month, args.samples = 3, 5_000, 50
    if not args.postgres:
        print("no PostgreSQL (--postgres or AUTHZ_TEST_POSTGRES_URL): nothing to measure, SQLite is not partitioned")
        return 0
    months, dbs = _months(args.months), {}
    urls, drop = _databases(args.postgres, ["partitioned", "plain"])
    try:
        found = measure(urls, months, args.per_month, args.samples, dbs)
    finally:
        drop(dbs)
    report(found, args.months, args.per_month)
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
