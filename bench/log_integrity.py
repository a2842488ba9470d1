"""The decision log's integrity at scale (R7.6; issue 19, must-hold 4; docs/performance.md):

1. the log writer's store rate on PostgreSQL in a batch-only run (entries chained, hashed into
   the Merkle tree, inserted with COPY, 1,000 a batch, as the writer process stores its spool);
   target >= 20,000 entries/s;
2. `authz log verify --checkpoint` (log/witness.py, in-process) over 1,000,000 entries with a
   checkpoint every 100,000; target <= 60 s;
3. an inclusion proof at 10,000,000 entries (tree.inclusion, as GET /v1/log/proofs/inclusion
   builds it); the fill writes the tree's kept subtree roots and the log_tree edge directly, with
   real entries in a few 256-leaf blocks only; target <= 5 ms. Also its CPU, queries and rows.
The logging cost with the tree and checkpoints on is bench/decision_log_cost.py's.

    .venv/bin/python bench/log_integrity.py [--postgres URL] [--entries N] [--proof-size N] [--parts 1 2 3] [--strict]
    .venv/bin/python bench/log_integrity.py --quick    # 20,000 entries, a proof at 100,000

PostgreSQL: --postgres, else AUTHZ_TEST_POSTGRES_URL; the bench makes and drops its own database
there. Without one, parts 1 and 3 run on SQLite only, and say so. Exits 1 on a missed target
only with --strict.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = "bench-log-integrity-key-0123456789"


def _app(url: str):
    from authz_service.app import create_app

    return create_app({"database_url": url, "bootstrap_key": KEY, "policy_poll_seconds": 0}, migrate=True)


def _batch(first: int, count: int) -> list:
    from authz_service.log import chain

    start = datetime(2026, 1, 1)
    return [chain._prepare({"at": start + timedelta(milliseconds=n * 30), "user_email": f"u{n % 97}@acme.example",
                            "account_id": f"c{n % 1000:04d}", "log_account": f"c{n % 1000:04d}",
                            "action": "port.view", "allowed": n % 3 != 0, "group": "regular",
                            "rule": "policies/services.csv:10", "reason": "bench", "caller": "bench"})
            for n in range(first, first + count)]


def fill(count: int, every: int = 0, on_step=None) -> tuple[float, float]:
    """`count` entries through chain.write, 1,000 a batch; (seconds, CPU seconds of this
    process) spent in chain.write."""
    from authz_service.log import chain

    spent = cpu = 0.0
    for first in range(0, count, 1000):
        batch = _batch(first, min(1000, count - first))
        began, cpu_began = time.perf_counter(), time.process_time()
        chain.write([chain.Ticket(batch, None)])
        spent, cpu = spent + time.perf_counter() - began, cpu + time.process_time() - cpu_began
        if every and on_step and (first + len(batch)) % every == 0:
            on_step()
    return spent, cpu


def writer_rate(url: str, entries: int) -> float:
    from authz_service import store
    from authz_service.log.checkpoints import FOLD_MOST
    from authz_service.store import decisions

    _app(url)
    with store.connection():
        spent, cpu = fill(entries)
        began, cpu_began = time.perf_counter(), time.process_time()
        while decisions.fold_rollup(FOLD_MOST)[0]:  # the Activity rollup, folded in behind (decision 044)
            pass
        folding, fold_cpu = time.perf_counter() - began, time.process_time() - cpu_began
    rate = entries / spent
    print(f"1. writer, batch-only, {entries:,} entries in batches of 1,000 on {_name(url)}: "
          f"{rate:,.0f} entries/s (chain + Merkle tree + insert; target >= 20,000 on PostgreSQL); "
          f"the writer's own CPU: {cpu / entries * 1e6:.1f} µs an entry ({entries / cpu:,.0f} entries per CPU second), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"   then the Activity rollup folded in behind, {FOLD_MOST:,} entries a statement: "
          f"{entries / folding:,.0f} entries/s, the writer's own CPU {fold_cpu / entries * 1e6:.1f} µs an entry; "
          f"storing and folding together: {entries / (spent + folding):,.0f} entries/s")
    return rate


def verify_time(tmp: Path, entries: int) -> float:
    from authz_service import store
    from authz_service.config import Settings
    from authz_service.log import checkpoints, witness
    from authz_service.log.signing import Verifier

    settings = Settings.from_env({"database_url": f"sqlite:///{tmp}/verify.db",
                                  "log_key_file": str(tmp / "log-key"), "log_witness_dir": str(tmp / "witness")})
    _app(settings.database_url)
    with store.connection():
        fill(entries, max(entries // 10, 1000), lambda: checkpoints.make(settings))
        key = Verifier(checkpoints.signer(settings).verifier())
        began = time.perf_counter()
        report = witness.verify(str(tmp / "witness"), key)
        took = time.perf_counter() - began
    assert not report.breaks and report.entries == entries, report.breaks
    print(f"2. verify --checkpoint of {entries:,} entries against {len(report.matched)} checkpoints "
          f"(SQLite): {took:.1f} s, {entries / took:,.0f} entries/s (target <= 60 s at 1,000,000)")
    return took * 1_000_000 / entries


def _name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def synthetic_tree(size: int, blocks: list[int]) -> None:
    """A tree of `size` leaves: random roots for the 256-leaf blocks, except `blocks` and the last
    (partial) one, whose entries are real rows; every kept root above them (heights 12, 16, ...)
    and the edge computed from them, as the writer would have kept them."""
    from authz_service.log import tree
    from authz_service.log.merkle import Frontier
    from authz_service.store import log_tree

    log_tree.state()  # the tree's row, made empty
    rng = random.Random(19)
    whole, rest = divmod(size, 256)
    real = set(blocks) | ({whole} if rest else set())
    heights8 = [None if b in real else rng.randbytes(32) for b in range(whole)]
    kept = fill_blocks(sorted(real), size, heights8)  # their roots at heights 4 and 8
    edge = Frontier()
    for b, node in enumerate(heights8):  # the edge over whole blocks: each a subtree of height 8
        kept.append((8, b, node))
        edge_append_subtree(edge, node, 8, kept)
    for first in range(0, len(kept), 5000):  # a statement's parameters are limited
        log_tree.save_nodes([(h, i, node.hex()) for h, i, node in kept[first:first + 5000]])
    for leaf in log_tree.leaves(0, whole * 256, size):
        edge.append(bytes.fromhex(leaf))
    tree.save(edge)


def edge_append_subtree(edge, node: bytes, height: int, done: list) -> None:
    """Append a complete aligned subtree of 2**height leaves to the edge; the roots it completes
    at a kept height (a multiple of merkle.STRIDE) added to `done` as (height, index, root)."""
    from authz_service.log import merkle

    size, h, end = edge.size >> height, height, edge.size + (1 << height)
    while size & 1:
        node = merkle.node_hash(edge.hashes.pop(), node)
        size, h = size >> 1, h + 1
        if h % merkle.STRIDE == 0:
            done.append((h, (end >> h) - 1, node))
    edge.hashes.append(node)
    edge.size = end


def fill_blocks(real: list[int], size: int, heights8: list) -> list:
    """Real entries for the blocks in `real` (seq = leaf + 1), chained among themselves only;
    the roots of the whole blocks in `heights8`; their kept roots below height 8, returned."""
    from authz_service.log import merkle
    from authz_service.log.chain import chain_hash
    from authz_service.store import decisions

    kept = []
    for b in real:
        first, last = b * 256, min(b * 256 + 256, size)
        prepared = _batch(first, last - first)
        rows, edge, done = [], merkle.Frontier(), []
        for i, (_, body, start) in enumerate(prepared):
            seq = first + i + 1
            leaf = merkle.leaf_hash(body)
            rows.append((*start, seq, "0" * 64, chain_hash(seq, "0" * 64, body), seq - 1, leaf.hex()))
            edge.append(leaf, done)
        with decisions.chain_end():
            decisions.insert(rows)
        kept += [(h, i + (first >> h), node) for h, i, node in done if h < 8]
        if b < len(heights8):
            heights8[b] = edge.root()
    return kept


def proof_time(url: str, size: int, samples: int) -> float:
    from authz_service import store
    from authz_service.log import merkle, tree

    _app(url)
    rng = random.Random(5)
    blocks = sorted(rng.sample(range(size // 256), min(20, size // 256)))
    with store.connection():
        began = time.perf_counter()
        synthetic_tree(size, blocks)
        filled = time.perf_counter() - began
        stored, root = tree.size_and_root()
        assert stored == size
        took, cpu, reads = [], 0.0, _Reads()
        for _ in range(samples):
            seq = rng.choice(blocks) * 256 + rng.randrange(256) + 1
            t0, c0 = time.perf_counter(), time.process_time()
            with reads:
                index, leaf, proof = tree.inclusion(seq, size)
            took.append((time.perf_counter() - t0) * 1000)
            cpu += time.process_time() - c0
            assert merkle.verify_inclusion(index, size, leaf, proof, root)
    took.sort()
    median, p95 = statistics.median(took), took[int(len(took) * 0.95)]
    print(f"3. inclusion proof at {size:,} entries on {_name(url)} (filled in {filled:.0f} s): "
          f"median {median:.2f} ms, p95 {p95:.2f} ms over {samples} proofs, each verified (target <= 5 ms); "
          f"per proof: {cpu / samples * 1e6:.0f} µs of this process's CPU, {reads.queries / samples:.1f} "
          f"queries, {reads.rows / samples:.0f} rows read; load average {os.getloadavg()[0]:.1f}")
    return p95


class _Reads:
    """Counts the queries and the rows they return while in a `with` block."""

    def __init__(self):
        self.queries = self.rows = 0

    def __enter__(self):
        from authz_service.store.models import database

        db = database.obj
        self.plain = db.execute_sql

        def counted(sql, params=None, *args):
            cursor = self.plain(sql, params, *args)
            self.queries += 1
            rows = cursor.fetchall() if cursor.description else []
            self.rows += len(rows)
            return _Fetched(cursor, rows)

        db.execute_sql = counted

    def __exit__(self, *exc):
        from authz_service.store.models import database

        del database.obj.execute_sql


class _Fetched:
    """A cursor's rows already fetched, read as from the cursor."""

    def __init__(self, cursor, rows: list):
        self.description, self.rowcount, self.rows = cursor.description, cursor.rowcount, iter(rows)

    def fetchall(self):
        return list(self.rows)

    def fetchone(self):
        return next(self.rows, None)

    def __iter__(self):
        return self.rows


def _postgres(url: str | None):
    """(a fresh database's URL, drop) on the server of `url`; (None, no-op) without one."""
    if not url:
        return None, lambda: None
    import psycopg

    name = f"bench_log_{os.getpid()}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from authz_service import store

        store.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("AUTHZ_TEST_POSTGRES_URL"))
    parser.add_argument("--writer-entries", type=int, default=200_000)
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries verified (part 2)")
    parser.add_argument("--proof-size", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--parts", type=int, nargs="+", choices=(1, 2, 3), default=[1, 2, 3])
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.writer_entries, args.entries, args.proof_size, args.samples = 20_000, 20_000, 100_000, 50
    met = []
    with tempfile.TemporaryDirectory() as tmp:
        pg, drop = _postgres(args.postgres)
        try:
            if 1 in args.parts:
                rate = writer_rate(pg or f"sqlite:///{tmp}/writer.db", args.writer_entries)
                met.append(rate >= 20_000 or pg is None)
                drop()
                pg, drop = _postgres(args.postgres)
            if 3 in args.parts:
                met.append(proof_time(pg or f"sqlite:///{tmp}/proof.db", args.proof_size, args.samples) <= 5)
        finally:
            drop()
        if 2 in args.parts:
            met.append(verify_time(Path(tmp), args.entries) <= 60)
    if not args.postgres:
        print("no PostgreSQL (--postgres or AUTHZ_TEST_POSTGRES_URL): parts 1 and 3 ran on SQLite")
    print("PASS" if all(met) else "MISS", "targets: writer >= 20,000/s, verify 1M <= 60 s, proof at 10M <= 5 ms")
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 1 if args.strict and not all(met) else 0


if __name__ == "__main__":
    sys.exit(main())
