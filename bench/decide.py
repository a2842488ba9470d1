"""Decision speed and memory: in-process decide vs raw pycasbin vs a dict lookup, one run.

    .venv/bin/python bench/decide.py [--strict]
    .venv/bin/python bench/decide.py --quick   # a smoke run: 2,000 customers, 20,000 decisions

--quick fails only if raw casbin and the decision table disagree, never on a timing.
"""

import argparse
import gc
import os
import platform
import random
import resource
import shlex
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from time import perf_counter_ns

from authz_service import policy, store
from authz_service.decide.gather import gather
from authz_service.policy import Facts
from authz_service.store.models import Account, Link, User, database, utcnow

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"
PARTNERS = 10
USERS_PER_GROUP = 5  # per partner and group
CUSTOMERS_PER_USER = 100  # one customer user per this many customers
CHUNK = 1000
TARGET_MEDIAN_US = 5.0
TARGET_SPEEDUP = 20.0
TARGET_RSS_MB = 200.0
TARGET_GROWTH = 0.10


class World:
    """The scratch directory as plain Python data, to draw requests from."""

    def __init__(self, customers: int, groups: tuple[str, ...], rng: random.Random):
        self.groups = groups
        self.partners = [f"partner-{p:02d}" for p in range(PARTNERS)]
        self.customers = [(f"cust-{i:06d}", self.partners[i % PARTNERS]) for i in range(customers)]
        self.users = {}  # email -> (home account, group, partner or None)
        for partner in self.partners:
            for group in groups:
                for k in range(USERS_PER_GROUP):
                    self.users[f"{group}{k}@{partner}.example"] = (partner, group, partner)
        for i, (cust, _) in enumerate(self.customers[::CUSTOMERS_PER_USER]):
            self.users[f"user@{cust}.example"] = (cust, groups[i % len(groups)], None)
        linkable = {p: [u for u, (h, g, _) in self.users.items() if h == p and g != "admin"]
                    for p in self.partners}
        self.links = [(rng.choice(linkable[p]), c, rng.choice(groups)) for c, p in self.customers]
        self.linked = {}  # email -> customers linked to it
        for user, cust, _ in self.links:
            self.linked.setdefault(user, []).append(cust)
        self.link_of = {cust: user for user, cust, _ in self.links}
        self.emails = list(self.users)
        self.partner_emails = [e for e, (_, _, p) in self.users.items() if p is not None]
        self.customer_emails = [e for e, (_, _, p) in self.users.items() if p is None]
        self.by_partner = {p: [c for c, q in self.customers if q == p] for p in self.partners}


def build_db(world: World, url: str) -> float:
    """Create the scratch database and bulk insert the world; returns the seconds taken."""
    start = time.perf_counter()
    store.connect(url, migrate=True)
    now = utcnow()
    accounts = [(p, "partner", p, None, now) for p in world.partners]
    accounts += [(c, "customer", c, p, now) for c, p in world.customers]
    users = [(e, h, g, now) for e, (h, g, _) in world.users.items()]
    links = [(u, c, g, now) for u, c, g in world.links]
    with store.connection(), database.atomic():
        for model, fields, rows in (
            (Account, [Account.id, Account.kind, Account.name, Account.partner, Account.created_at], accounts),
            (User, [User.email, User.account, User.group, User.created_at], users),
            (Link, [Link.user, Link.customer, Link.group, Link.linked_at], links),
        ):
            for i in range(0, len(rows), CHUNK):
                model.insert_many(rows[i : i + CHUNK], fields=fields).execute()
    return time.perf_counter() - start


def draw_request(world: World, rng: random.Random) -> tuple[str, str]:
    """A partner (70%) or customer user; half any customer, 40% one it reaches, 10% home."""
    email = rng.choice(world.partner_emails if rng.random() < 0.7 else world.customer_emails)
    home, group, partner = world.users[email]
    roll = rng.random()
    if roll < 0.5:
        return email, rng.choice(world.customers)[0]
    if roll < 0.9 and email in world.linked:
        return email, rng.choice(world.linked[email])
    if roll < 0.9 and partner is not None:
        return email, rng.choice(world.by_partner[partner])
    return email, home


def gather_requests(world: World, n: int, actions, rng: random.Random) -> list[tuple[Facts, str]]:
    """n (facts, action) pairs, the facts read from the store as the service reads them."""
    pairs = []
    with store.connection():
        for _ in range(n):
            email, account = draw_request(world, rng)
            pairs.append((gather(email, account).facts, rng.choice(actions)))
    return pairs


def per_customer_rows(world: World, rng: random.Random) -> list[tuple]:
    """One gathered facts tuple (plain strings) per customer: its linked user, or any user."""
    rows = []
    with store.connection():
        for cust, _ in world.customers:
            email = world.link_of[cust] if rng.random() < 0.7 else rng.choice(world.emails)
            rows.append(tuple(gather(email, cust).facts))
    return rows


def time_calls(fn, pairs) -> list[int]:
    """Nanoseconds of each fn(a, b), after a short warm-up."""
    for a, b in pairs[:200]:
        fn(a, b)
    out = []
    for a, b in pairs:
        t0 = perf_counter_ns()
        fn(a, b)
        out.append(perf_counter_ns() - t0)
    return out


def time_lookups(table: dict, keys) -> list[int]:
    """Nanoseconds of each plain table[key]."""
    for key in keys[:200]:
        table[key]
    out = []
    for key in keys:
        t0 = perf_counter_ns()
        table[key]
        out.append(perf_counter_ns() - t0)
    return out


def timer_floor(n: int = 20_000) -> int:
    """Median nanoseconds between two back-to-back perf_counter_ns calls."""
    out = []
    for _ in range(n):
        t0 = perf_counter_ns()
        out.append(perf_counter_ns() - t0)
    return sorted(out)[n // 2]


def stats(ns: list[int]) -> tuple[float, float]:
    """(median, p99) in microseconds."""
    s = sorted(ns)
    return s[len(s) // 2] / 1000, s[min(len(s) - 1, int(len(s) * 0.99))] / 1000


def rss_mb() -> tuple[float, str]:
    """Resident memory now (VmRSS), or the peak from getrusage where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024, "VmRSS"
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "ru_maxrss (peak)"


def memory_run(loaded, rows: list[tuple], total: int, seed: int) -> tuple:
    """RSS after 10k and after `total` decisions, each on a fresh Facts over a random customer."""
    rng = random.Random(seed)
    actions, n, decide = loaded.vocab.actions, len(rows), loaded.decide
    gc.collect()
    early = None
    for i in range(1, total + 1):
        decide(Facts(*rows[rng.randrange(n)]), rng.choice(actions))
        if i == 10_000:
            early = rss_mb()[0]
    late, source = rss_mb()
    return early, late, source, total


def header(args) -> None:
    """Command, interpreter, machine and date."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print("authz-service decision benchmark (bench/decide.py)")
    print(f"command:  {shlex.join(getattr(sys, 'orig_argv', sys.argv))}")
    print(f"python:   {platform.python_version()} ({platform.python_implementation()}) "
          f"on {platform.system()} {platform.machine()}")
    print(f"cores:    {os.cpu_count()} (usable here: {usable})")
    print(f"date:     {datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"seed:     {args.seed}")


def setup(args, tmp: str):
    """Load the policy, build and fill the scratch database; print what was built."""
    t0 = time.perf_counter()
    loaded = policy.load(POLICY_DIR)
    load_s = time.perf_counter() - t0
    print(f"policy:   version {loaded.version}, {len(loaded.table):,} table entries, "
          f"{len(loaded.vocab.actions)} actions, loaded and derived in {load_s:.2f} s")
    world = World(args.customers, loaded.vocab.groups, random.Random(args.seed))
    secs = build_db(world, f"sqlite:///{tmp}/bench.db")
    print(f"store:    SQLite (temp dir): {PARTNERS} partners, {len(world.customers):,} customers, "
          f"{len(world.users):,} users, {len(world.links):,} links, inserted in {secs:.1f} s")
    return loaded, world


def describe_mix(loaded, pairs) -> None:
    """The share of each relation and of allowed decisions among the requests."""
    n = len(pairs)
    rel = {r: sum(f.relation == r for f, _ in pairs) / n for r in ("home", "owner", "none")}
    allowed = sum(loaded.decide(f, a).allowed for f, a in pairs) / n
    print(f"requests: {n:,} gathered (user, account) + random action; relation "
          + ", ".join(f"{r} {v:.0%}" for r, v in rel.items()) + f"; allowed {allowed:.0%}")


def measure(loaded, world, args) -> dict:
    """Time (a1), (a2), (b) and (c) on the same requests; returns name -> (n, median, p99)."""
    rng = random.Random(args.seed + 1)
    actions = loaded.vocab.actions
    pairs = gather_requests(world, args.requests, actions, rng)
    describe_mix(loaded, pairs)
    few = pairs[: args.slow_requests]
    agree = sum(loaded.engine.enforce_bool(f, a) == loaded.decide(f, a).allowed for f, a in few)
    print(f"check:    raw casbin and the table agree on {agree:,}/{len(few):,} of these requests")
    if agree != len(few):
        raise SystemExit("raw casbin and the decision table disagree")
    lookup = {(*f, a): loaded.decide(f, a).allowed for f, a in pairs}
    keys = [(*f, a) for f, a in pairs]
    full_reqs = [(draw_request(world, rng), rng.choice(actions)) for _ in range(args.slow_requests)]

    def full_path(request, action):
        return loaded.decide(gather(*request).facts, action)

    with store.connection():
        results = {
            "a1": time_calls(loaded.decide, pairs),
            "a2": time_calls(full_path, full_reqs),
            "b": time_calls(loaded.engine.enforce_bool, few),
            "c": time_lookups(lookup, keys),
        }
    return {k: (len(v), *stats(v)) for k, v in results.items()}


LABELS = {
    "a1": "(a1) policy.decide(facts, action), in-process",
    "a2": "(a2) gather from SQLite + decide (full path)",
    "b": "(b)  raw pycasbin enforce, same facts/actions",
    "c": "(c)  plain dict lookup, prebuilt key",
}


def report(results: dict, mem: tuple, floor: int) -> list[tuple[bool, str]]:
    """Print the table, ratios and memory; returns (passed, line) per target."""
    print(f"timer:    back-to-back perf_counter_ns median {floor} ns, included in every figure")
    print(f"\n{'':48}{'n':>8}{'median µs':>12}{'p99 µs':>10}")
    for key, label in LABELS.items():
        n, med, p99 = results[key]
        print(f"{label:48}{n:>8,}{med:>12.3f}{p99:>10.3f}")
    a1, b, c = results["a1"][1], results["b"][1], results["c"][1]
    print(f"\nratios (medians, this run): a1/c = {a1 / c:.2f}x   b/a1 = {b / a1:.0f}x   "
          f"a2/a1 = {results['a2'][1] / a1:.0f}x")
    early, late, source, total = mem
    growth = (late - early) / early
    print(f"memory ({source}): after 10k decisions {early:.1f} MB, after {total:,} {late:.1f} MB, "
          f"growth {growth:+.1%}\n")
    return [
        (a1 <= TARGET_MEDIAN_US, f"(a1) median {a1:.3f} µs <= {TARGET_MEDIAN_US:g} µs"),
        (b / a1 >= TARGET_SPEEDUP, f"(b)/(a1) {b / a1:.0f}x >= {TARGET_SPEEDUP:g}x"),
        (late < TARGET_RSS_MB, f"RSS after {total:,} decisions {late:.1f} MB < {TARGET_RSS_MB:g} MB"),
        (growth <= TARGET_GROWTH, f"RSS growth 10k -> {total:,} {growth:+.1%} <= {TARGET_GROWTH:.0%}"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=100_000, help="customers = links")
    parser.add_argument("--requests", type=int, default=20_000, help="for (a1) and (c)")
    parser.add_argument("--slow-requests", type=int, default=2_000, help="for (a2) and (b)")
    parser.add_argument("--decisions", type=int, default=1_000_000, help="for the memory run")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2,000 customers, 2,000 requests, 200 slow ones, 20,000 decisions")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.requests, args.slow_requests, args.decisions = 2_000, 2_000, 200, 20_000
    if args.decisions < 10_000:
        parser.error("--decisions must be at least 10000 (RSS is read after the first 10k)")
    header(args)
    with tempfile.TemporaryDirectory(prefix="authz-bench-") as tmp:
        loaded, world = setup(args, tmp)
        results = measure(loaded, world, args)
        t0 = time.perf_counter()
        rows = per_customer_rows(world, random.Random(args.seed + 2))
        print(f"memory:   facts gathered once for all {len(rows):,} customers "
              f"in {time.perf_counter() - t0:.1f} s")
        mem = memory_run(loaded, rows, args.decisions, args.seed + 3)
        store.close()
    checks = report(results, mem, timer_floor())
    for passed, line in checks:
        print(f"{'PASS' if passed else 'FAIL'} {line}")
    failed = not all(p for p, _ in checks)
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 1 if (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
