"""Link/revoke cycles interleaved with decisions over HTTP: cost of a change, and stale allows (R4.6).

On SQLite: one server, two workers. With --postgres (or AUTHZ_TEST_POSTGRES_URL): also two
replicas on PostgreSQL, whose workers keep facts in memory; the links change on replica A
and every decision is asked of replica B.

    .venv/bin/python bench/link_changes.py [--cycles 1000] [--postgres URL]
    .venv/bin/python bench/link_changes.py --quick   # a smoke run: 20 cycles on each

Stale or missing allows are a broken guarantee, not a timing: --quick fails on them too.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import KEY, Server  # noqa: E402

LINK = "/v1/customers/hooli/links/lee@acme.example"
CHECK = json.dumps({"user": "lee@acme.example", "action": "port.create", "account": "hooli"})
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def timed(conn: http.client.HTTPConnection, method: str, path: str, body: str | None):
    """(µs, status, json) of one request on a kept-alive connection."""
    start = time.perf_counter_ns()
    conn.request(method, path, body=body, headers=HEADERS)
    response = conn.getresponse()
    raw = response.read()
    took = (time.perf_counter_ns() - start) / 1000
    return took, response.status, (json.loads(raw) if raw else None)


def cycles(port: int, count: int, decide_port: int | None = None) -> dict:
    """`count` times: link, decide (must allow), revoke, decide (must deny); the decisions
    on `decide_port` when given (another replica)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    asker = http.client.HTTPConnection("127.0.0.1", decide_port, timeout=30) if decide_port else conn
    link_us, revoke_us, decide_us, stale, missing = [], [], [], 0, 0
    put = json.dumps({"user": "ada@acme.example", "group": "regular"})
    for _ in range(count):
        took, status, _ = timed(conn, "PUT", LINK, put)
        link_us.append(took)
        took, _, body = timed(asker, "POST", "/v1/authorize", CHECK)
        decide_us.append(took)
        missing += not body["allowed"]
        took, status, _ = timed(conn, "DELETE", LINK + "?user=ada@acme.example", None)
        revoke_us.append(took)
        took, _, body = timed(asker, "POST", "/v1/authorize", CHECK)
        decide_us.append(took)
        stale += body["allowed"]
    return {"link": link_us, "revoke": revoke_us, "decide": decide_us, "stale": stale,
            "missing": missing}


def report(title: str, got: dict) -> bool:
    med = {k: statistics.median(got[k]) for k in ("link", "revoke", "decide")}
    print(title)
    for name in ("link", "revoke", "decide"):
        p99 = statistics.quantiles(got[name], n=100)[98]
        print(f"  {name:7s} median {med[name]:8.0f} µs   p99 {p99:8.0f} µs")
    print(f"  a link change costs {med['link'] / med['decide']:.2f}× a decision; "
          f"a revoke {med['revoke'] / med['decide']:.2f}×")
    print(f"  stale allows after revoke: {got['stale']} (target 0); "
          f"missing allows after link: {got['missing']} (target 0)")
    return got["stale"] == 0 and got["missing"] == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("AUTHZ_TEST_POSTGRES_URL", ""),
                        help="also two replicas on this PostgreSQL (emptied of the service's tables)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20 cycles; fails on a stale or missing allow, never on a timing")
    args = parser.parse_args()
    if args.quick:
        args.cycles = 20
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), workers=2)
        server.load_demo()
        server.start()
        try:
            ok = report(f"bench/link_changes.py: {args.cycles} link/revoke cycles over HTTP, gunicorn 2 workers, SQLite",
                        cycles(server.port, args.cycles))
        finally:
            server.stop()
        if args.postgres:
            from tests.support import backends

            env = {"AUTHZ_DATABASE_URL": backends.postgres_url(drop=True)}
            a = Server(Path(tempfile.mkdtemp(dir=tmp)), workers=2, env=env)
            b = Server(Path(tempfile.mkdtemp(dir=tmp)), workers=2, env=env)
            a.load_demo()
            try:
                a.start()
                b.start()
                ok &= report(f"{args.cycles} cycles on PostgreSQL, facts cached: links changed on replica A, "
                             "decisions asked of replica B", cycles(a.port, args.cycles, b.port))
            finally:
                a.stop()
                b.stop()
    print("PASS" if ok else "FAIL", "zero stale answers")
    return 1 if (args.strict or args.quick) and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
