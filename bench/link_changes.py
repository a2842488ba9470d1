"""Link/revoke cycles interleaved with decisions over HTTP: cost of a change, and stale allows (R4.6).

On SQLite: one server, two workers. With --postgres (or AUTHZ_TEST_POSTGRES_URL): also two
replicas on PostgreSQL, whose workers keep facts in memory; the links change on replica A
and every decision is asked of replica B.

    .venv/bin/python bench/link_changes.py [--cycles 1000] [--postgres URL]
    .venv/bin/python bench/link_changes.py --quick   # a smoke run: 20 cycles on each

Links with an end (R10.1), with --postgres: `--ends` links (1,000; --quick 20) are made on
replica A, each ending 300 ms after it is made; eight askers (four on each replica, so every
caching worker is asked) decide about each link from 30 ms before its end until they see a deny.
An allow asked after the end is stale (target 0), a deny answered before it is early (target 0);
the expiry error is how long after the end the first deny was asked (ms; bounded by the askers'
pace, since the end is judged at each decision).

Stale or missing allows are a broken guarantee, not a timing: --quick fails on them too.
"""

import argparse
import http.client
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
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


AHEAD = timedelta(milliseconds=300)
ASKERS = 8


def make_world(url: str, users: int, customers: int) -> list[tuple[str, str]]:
    """`users` × `customers` (email, customer) pairs of acme, to link each once."""
    from authz_service import store
    from authz_service.store import directory

    store.connect(url)
    with store.connection():
        for c in range(customers):
            directory.put_customer(f"ends-c{c}", f"Ends {c}", "acme")
        for u in range(users):
            directory.put_user(f"ends-u{u}@acme.example", "acme", "partner", "regular")
    store.close()
    return [(f"ends-u{u}@acme.example", f"ends-c{c}") for u in range(users) for c in range(customers)]


def _ask(conn: http.client.HTTPConnection, check: str):
    """One decision; a kept-alive connection the server closed meanwhile is opened again once."""
    try:
        return timed(conn, "POST", "/v1/authorize", check)
    except (OSError, http.client.HTTPException):
        conn.close()
        return timed(conn, "POST", "/v1/authorize", check)


def _ask_until_denied(conn, email: str, customer: str, ends: float, seen: dict) -> None:
    """Decide from 30 ms before the end until a deny (at most 5 s after it)."""
    check = json.dumps({"user": email, "action": "port.create", "account": customer})
    time.sleep(max(0.0, ends - 0.03 - time.time()))
    on_time = False  # this link was watched from before its end
    while time.time() < ends + 5:
        asked = time.time()
        _, status, body = _ask(conn, check)
        answered = time.time()
        if status != 200:
            seen["errors"] += 1
        elif body["allowed"]:
            seen["stale"] += asked > ends
            seen["allowed_before"] += answered < ends
            on_time |= answered < ends
        else:
            seen["early"] += answered < ends
            seen["denied"] += 1
            if on_time:  # from the end to the first deny asked after it, for a link watched in time
                seen["error_ms"].append(max(0.0, asked - ends) * 1000)
            return
        time.sleep(0.001)
    seen["never_denied"] += 1


def expiry(a_port: int, b_port: int, pairs: list[tuple[str, str]]) -> dict:
    """Make each link on A ending AHEAD later; askers on A and B watch each end pass."""
    work: queue.Queue = queue.Queue()
    seen = {"stale": 0, "early": 0, "errors": 0, "never_denied": 0, "error_ms": [], "made": 0, "allowed_before": 0,
            "denied": 0}
    lock = threading.Lock()

    def asker(port: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = {"stale": 0, "early": 0, "errors": 0, "never_denied": 0, "error_ms": [], "allowed_before": 0,
                "denied": 0}
        while (item := work.get()) is not None:
            _ask_until_denied(conn, *item, mine)
        conn.close()
        with lock:
            for key, value in mine.items():
                seen[key] += value

    threads = [threading.Thread(target=asker, args=(a_port if i % 2 else b_port,)) for i in range(ASKERS)]
    for t in threads:
        t.start()
    conn = http.client.HTTPConnection("127.0.0.1", a_port, timeout=30)
    for email, customer in pairs:
        ends = datetime.now(UTC) + AHEAD
        body = json.dumps({"user": "ada@acme.example", "group": "regular",
                           "expires_at": ends.isoformat(timespec="microseconds").replace("+00:00", "Z")})
        _, status, _ = timed(conn, "PUT", f"/v1/customers/{customer}/links/{email}", body)
        seen["made"] += status == 201
        work.put((email, customer, ends.timestamp()))
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    conn.close()
    return seen


def report_expiry(title: str, seen: dict, count: int) -> bool:
    print(title)
    errors = sorted(seen["error_ms"]) or [0.0]
    p99 = errors[min(len(errors) - 1, int(len(errors) * 0.99))]
    print(f"  links made: {seen['made']} of {count}; allows seen before an end: {seen['allowed_before']}; "
          f"denied after their end: {seen['denied']} ({len(seen['error_ms'])} watched from before it)")
    print(f"  stale allows after expiry: {seen['stale']} (target 0); early denies before it: {seen['early']} "
          f"(target 0); never denied: {seen['never_denied']}; errors: {seen['errors']}")
    print(f"  expiry error (end to the first deny, links watched from before it): median {statistics.median(errors):.1f} ms, "
          f"p99 {p99:.1f} ms, max {errors[-1]:.1f} ms")
    return (seen["stale"] == 0 and seen["early"] == 0 and seen["never_denied"] == 0 and seen["errors"] == 0
            and seen["made"] == count and seen["denied"] == count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("AUTHZ_TEST_POSTGRES_URL", ""),
                        help="also two replicas on this PostgreSQL (emptied of the service's tables)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--ends", type=int, default=1000, help="links with an end (R10.1), with --postgres")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20 cycles; fails on a stale or missing allow, never on a timing")
    args = parser.parse_args()
    if args.quick:
        args.cycles, args.ends = 20, 20
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

            url = backends.postgres_url(drop=True)
            env = {"AUTHZ_DATABASE_URL": url}
            a = Server(Path(tempfile.mkdtemp(dir=tmp)), workers=2, env=env)
            b = Server(Path(tempfile.mkdtemp(dir=tmp)), workers=2, env=env)
            a.load_demo()
            try:
                a.start()
                b.start()
                ok &= report(f"{args.cycles} cycles on PostgreSQL, facts cached: links changed on replica A, "
                             "decisions asked of replica B", cycles(a.port, args.cycles, b.port))
                pairs = make_world(url, max(1, (args.ends + 19) // 20), 20)[: args.ends]
                ok &= report_expiry(f"{args.ends} links ending {AHEAD.total_seconds() * 1000:.0f} ms after "
                                    f"they are made on replica A; {ASKERS} askers on A and B (R10.1)",
                                    expiry(a.port, b.port, pairs), args.ends)
            finally:
                a.stop()
                b.stop()
    print("PASS" if ok else "FAIL", "zero stale answers")
    return 1 if (args.strict or args.quick) and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
