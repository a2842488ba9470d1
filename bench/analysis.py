"""Policy analysis for reviewers: invariants proven at load (target <= 1 s), lint, compare and impact.

Loads policies/, then times, each as the median of several runs: proving every invariant of
policies/invariants.toml over the decision table (what every start and reload adds), the lint,
and a compare against a copy where read_only loses invoice.download; then `impact` of that change
on a scratch SQLite directory (100,000 customers, 100,000 links; --quick: 2,000). Exits 0 unless
--strict and the invariants take more than 1 s.

    .venv/bin/python bench/policy_analysis.py [--strict]
    .venv/bin/python bench/policy_analysis.py --quick   # a smoke run: 2,000 customers, one run each
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from authz_service import policy, store
from authz_service.decide.impact import impact
from authz_service.policy import compare, invariants, lint, snapshot
from authz_service.store.models import Account, Link, User, database

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"
TARGET_INVARIANTS_S = 1.0
PARTNERS = 10
GROUPS = ("admin", "regular", "read_only", "support")


def timed(fn, runs: int) -> tuple[float, object]:
    """(median seconds, last result) over `runs` calls."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def changed_policy() -> policy.Policy:
    """The shipped policy where read_only no longer downloads invoices (one group touched)."""
    snap = snapshot.read(POLICY_DIR)
    files = dict(snap.files)
    files["account.csv"] = files["account.csv"].replace(b"p, read_only, *, invoice: view download, allow",
                                                        b"p, read_only, *, invoice: view, allow")
    return policy.Policy(snapshot.Snapshot(POLICY_DIR, files, ()))


def directory(customers: int, rng: random.Random) -> None:
    """Partners, customers, 5 users per partner and group, one customer user per 100 customers, a link
    per customer to a random non-admin user of its partner."""
    partners = [f"partner-{p:02d}" for p in range(PARTNERS)]
    Account.insert_many([{"id": p, "kind": "partner", "name": p} for p in partners]).execute()
    rows = [{"id": f"cust-{i:06d}", "kind": "customer", "name": f"c{i}", "partner": partners[i % PARTNERS]}
            for i in range(customers)]
    for start in range(0, len(rows), 5000):
        Account.insert_many(rows[start:start + 5000]).execute()
    users = [{"email": f"{g}{k}@{p}.example", "account": p, "group": g}
             for p in partners for g in GROUPS for k in range(5)]
    users += [{"email": f"user@{r['id']}.example", "account": r["id"], "group": rng.choice(GROUPS)}
              for r in rows[::100]]
    for start in range(0, len(users), 5000):
        User.insert_many(users[start:start + 5000]).execute()
    links = [{"user": f"{rng.choice(GROUPS[1:])}{rng.randrange(5)}@{r['partner']}.example",
              "customer": r["id"], "group": rng.choice(GROUPS)} for r in rows]
    for start in range(0, len(links), 5000):
        Link.insert_many(links[start:start + 5000]).execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2,000 customers, one run each")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the invariants take over 1 s")
    args = parser.parse_args()
    runs, customers = (1, 2_000) if args.quick else (5, 100_000)
    start = time.perf_counter()
    shipped = policy.load(POLICY_DIR)
    load_s = time.perf_counter() - start
    prove_s, _ = timed(lambda: invariants.prove(shipped), runs)  # what every load and reload runs
    broken = invariants.check(shipped)
    lint_s, findings = timed(lambda: lint.lint(shipped), runs)
    other = changed_policy()
    compare_s, result = timed(lambda: compare.compare(shipped, other), runs)
    print(f"policy {shipped.version}: {len(shipped.table)} table cells, {len(shipped.invariants)} invariants")
    print(f"load (derive + invariants)  {load_s:8.3f} s")
    print(f"invariants proven           {prove_s:8.3f} s   target <= {TARGET_INVARIANTS_S:g} s, "
          f"{len(broken)} broken")
    print(f"lint                        {lint_s:8.3f} s   {len(findings)} finding(s)")
    print(f"compare                     {compare_s:8.3f} s   {result.verdict}, {len(result.cells)} cells")
    with tempfile.TemporaryDirectory() as tmp:
        store.connect(f"sqlite:///{tmp}/bench.db", migrate=True)
        with store.connection(), database.atomic():
            directory(customers, random.Random(1))
        with store.connection():
            impact_s, moved = timed(lambda: impact(shipped, other), runs)
        store.close()
    print(f"impact, {customers:,} customers {impact_s:8.3f} s   {len(moved.gained)} gained, {len(moved.lost)} lost")
    if broken or findings:
        print("the shipped policy breaks an invariant or has lint findings")
        return 1
    return 1 if args.strict and prove_s > TARGET_INVARIANTS_S else 0


if __name__ == "__main__":
    sys.exit(main())
