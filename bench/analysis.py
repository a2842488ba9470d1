"""Policy analysis for reviewers (issue 18): invariants at load <= 1 s, impact <= 10 s, replay <= 30 s.

Loads policies/, then times, each as the median of several runs: proving every invariant of
policies/invariants.toml over the decision table (what every start and reload adds), the lint,
and a compare against a copy where read_only loses invoice.download (a change touching one
group); then `impact` of that change on a scratch SQLite directory (100,000 customers, 100,000
links; --quick: 2,000); then the replay (`authz policy impact NEW --since 30d`) of 1,000,000
recorded decisions (--quick: 20,000) under that change, checked against deciding each entry's
facts one by one (and timed beside it, a ratio). The recorded rows are inserted straight into the
decision table with facts drawn from the possible cells and the outcome the shipped policy gives
them (the replay reads neither hashes nor tree), plus 5% without facts (recorded before
migration 8). Exits 1 when a figure misses its target with --strict, or when the replay differs
from the one-by-one answer.

    .venv/bin/python bench/analysis.py [--strict]
    .venv/bin/python bench/analysis.py --quick   # a smoke run: 2,000 customers, 20,000 decisions, one run each
    .venv/bin/python bench/analysis.py --replay-postgres postgresql://postgres@127.0.0.1:5432/bench
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from authz_service import policy, store
from authz_service.decide.impact import impact
from authz_service.decide.replay import replay
from authz_service.policy import compare, invariants, lint, snapshot
from authz_service.policy.facts import as_text, from_text, is_possible
from authz_service.policy.table import all_facts
from authz_service.store import recorded
from authz_service.store.models import Account, Decision, Link, User, database, utcnow

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"
TARGET_INVARIANTS_S, TARGET_IMPACT_S, TARGET_REPLAY_S = 1.0, 10.0, 30.0
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


def recorded_log(shipped: policy.Policy, count: int, rng: random.Random) -> None:
    """`count` decision rows over the last 29 days: possible facts, any action, the shipped outcome."""
    cells = [f for f in all_facts(shipped.vocab) if is_possible(f)]
    actions, now = shipped.vocab.actions, utcnow()
    outcome = {(f, a): shipped.decide(f, a).allowed for f in cells for a in actions}
    texts = {f: as_text(f) for f in cells}
    names = ("id", "seq", "prev_hash", "hash", "at", "user_email", "action", "allowed", "rule", "reason",
             "altered", "facts", "policy_version")
    sql = (f'INSERT INTO "{Decision._meta.table_name}" ({", ".join(names)}) '
           f'VALUES ({", ".join([database.param] * len(names))})')
    is_sqlite = database.param == "?"
    for start in range(0, count, 20_000):
        rows = []
        for seq in range(start + 1, min(count, start + 20_000) + 1):
            facts, action = rng.choice(cells), rng.choice(actions)
            old = rng.random() < 0.05  # recorded before migration 8: no facts
            rows.append((f"{seq:032x}", seq, "0" * 64, "0" * 64, (str if is_sqlite else (lambda t: t))(now - timedelta(seconds=seq * 2.5)),
                         f"u{seq % 5000}@bench.example", action, outcome[(facts, action)], "bench", "bench", False,
                         None if old else texts[facts], None if old else shipped.version))
        database.cursor().executemany(sql, rows)


def one_by_one(new: policy.Policy, since) -> Counter:
    """Each recorded entry's facts decided under `new` alone: flips by (action, direction)."""
    flips: Counter = Counter()
    for _, text, action, allowed in recorded.each(since):
        now = new.decide(from_text(text), action).allowed
        if now != allowed:
            flips[(action, "to_allow" if now else "to_deny")] += 1
    return flips


def bench_replay(shipped, other, count: int, runs: int, url: str | None) -> tuple[bool, float]:
    """Replay `count` recorded decisions under `other` on a scratch SQLite file (or the empty
    PostgreSQL database `url`); (agrees with one by one, seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        store.connect(url or f"sqlite:///{tmp}/replay.db", migrate=True)
        with store.connection():
            if Decision.select().exists():
                raise SystemExit(f"{url} holds decisions already: give an empty database")
        with store.connection(), database.atomic():
            recorded_log(shipped, count, random.Random(2))
        since = utcnow() - timedelta(days=30)
        with store.connection():
            replay_s, result = timed(lambda: replay(other, since), runs)
            start = time.perf_counter()
            reference = one_by_one(other, since)
            each_s = time.perf_counter() - start
            if url:  # leave the database empty for the next run
                Decision.delete().execute()
        store.close()
    got = Counter({(a, d): c[d] for a, c in result.flips.items() for d in ("to_allow", "to_deny") if c[d]})
    print(f"{f'replay, {count:,} decisions':<27} {replay_s:8.3f} s   {'PostgreSQL' if url else 'SQLite'},   target <= {TARGET_REPLAY_S:g} s,\n"
          f"{'':<40}{result.replayed:,} replayed, {result.flipped:,} flipped, {result.not_replayable:,} not replayable")
    print(f"{'  one by one (reference)':<27} {each_s:8.3f} s   {each_s / replay_s:.1f}x the replay's time, "
          f"{'same answer' if got == reference else 'DIFFERENT ANSWER'}")
    return got == reference, replay_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2,000 customers, one run each")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a figure misses its target")
    parser.add_argument("--replay-postgres", metavar="URL", default=None,
                        help="replay on this empty PostgreSQL database instead of a scratch SQLite file")
    args = parser.parse_args()
    runs, customers, decisions = (1, 2_000, 20_000) if args.quick else (3, 100_000, 1_000_000)
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
    print(f"{f'impact, {customers:,} customers':<27} {impact_s:8.3f} s   target <= {TARGET_IMPACT_S:g} s, "
          f"{len(moved.gained)} gained, {len(moved.lost)} lost")
    exact, replay_s = bench_replay(shipped, other, decisions, runs, args.replay_postgres)
    if broken or findings or not exact:
        print("the shipped policy breaks an invariant or has lint findings, or the replay is not exact")
        return 1
    missed = prove_s > TARGET_INVARIANTS_S or impact_s > TARGET_IMPACT_S or replay_s > TARGET_REPLAY_S
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
