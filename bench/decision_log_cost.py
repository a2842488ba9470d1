"""Decision log cost (R7): decisions/second over HTTP with the log on and off, in one run,
and the activity page read at 1M entries. With the log on, the writer also keeps the Merkle
tree and signs a checkpoint every second (R7.6; AUTHZ_LOG_CHECKPOINT_SECONDS=1, ten times the
default rate). Targets: the log costs at most 10% of throughput (issue 19); an activity page
under 20 ms at 1M entries. bench/log_integrity.py measures the rest of the log's integrity.

    .venv/bin/python bench/decision_log_cost.py [--seconds 30] [--entries 1000000] [--strict]
    .venv/bin/python bench/decision_log_cost.py --quick   # a smoke run: 2 s of load, 20,000 entries

It exits 1 on a missed target only with --strict; --quick fails only on an answer other than 200.
"""

import argparse
import json
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project root, for tests.support.server

from bench.serve_throughput import cpu_seconds  # noqa: E402
from tests.support.server import AUTHZ, KEY, free_port  # noqa: E402

# A mix like a portal's: partner users in customers (allowed and denied), customers' own
# users at home, partner actions on the partner, and unknown or foreign accounts.
MIX = [("rita@acme.example", "port.create", "initech"), ("rita@acme.example", "port.delete", "umbrella"),
       ("ada@acme.example", "port.view", "hooli"), ("ian@initech.example", "port.view", "initech"),
       ("ivy@initech.example", "billing.view", "initech"), ("ada@acme.example", "grant.manage", "acme"),
       ("lee@acme.example", "port.create", "hooli"), ("gina@globex.example", "port.view", "initech")]


def requests_for(port: int) -> list[bytes]:
    """Ready-made HTTP/1.1 authorize requests, one per check of the mix."""
    out = []
    for user, action, account in MIX:
        body = json.dumps({"user": user, "action": action, "account": account}).encode()
        out.append((f"POST /v1/authorize HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return out


def _answer(buffer: bytearray) -> tuple[bool, bool] | None:
    """(complete, ok) for the first response in buffer, removing it; None while incomplete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    at = head.find(b"content-length:")
    length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
    if len(buffer) < end + 4 + length:
        return None
    del buffer[: end + 4 + length]
    return head.startswith(b"http/1.1 200"), b"connection: close" in head


def drive(port: int, seconds: float, connections: int) -> tuple[int, int]:
    """Keep `connections` requests in flight for `seconds`: (answers 200, other answers)."""
    pool, selector, buffers = requests_for(port), selectors.DefaultSelector(), {}

    def connect():
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffers[sock] = bytearray()
        selector.register(sock, selectors.EVENT_READ)
        sock.sendall(random.choice(pool))

    for _ in range(connections):
        connect()
    ok = bad = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for key, _ in selector.select(0.5):
            sock = key.fileobj
            chunk = sock.recv(65536)
            buffers[sock] += chunk
            got = _answer(buffers[sock]) if chunk else (False, True)
            if got is None:
                continue
            ok, bad = ok + got[0], bad + (not got[0])
            if got[1]:
                selector.unregister(sock)
                buffers.pop(sock).clear()
                sock.close()
                connect()
            else:
                sock.sendall(random.choice(pool))
    for sock in buffers:
        sock.close()
    return ok, bad


@contextmanager
def served(mode: str, template: Path, tmp: Path):
    """A server (log on or off) on its own copy of the demo database; yields (port, pgid)."""
    db = tmp / f"{mode}.db"
    shutil.copy(template, db)
    port = free_port()
    env = {**os.environ, "AUTHZ_DATABASE_URL": f"sqlite:///{db}", "AUTHZ_BOOTSTRAP_KEY": KEY,
           "AUTHZ_POLICY_POLL_SECONDS": "0", "AUTHZ_LOG_CHECKPOINT_SECONDS": "1",
           "AUTHZ_LOG_KEY_FILE": str(tmp / f"{mode}.log-key"), "AUTHZ_LOG_WITNESS_DIR": str(tmp / f"{mode}.witness")}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--log", mode],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait(port)
        yield port, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def serve(port: int, mode: str) -> None:
    """The server under test; with the log off, append only hands out ids."""
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="authz-metrics-"))
    from authz_service import store
    from authz_service.log import chain
    from authz_service.serving.serve import run
    from authz_service.store import summary

    def no_log(entries: list[dict], activity=None) -> list[str]:
        if activity and activity[0]:  # what rides with the entries still happens, in its own commit
            with store.database.atomic():
                summary.note_activity(*activity)
        return [e.setdefault("id", chain.new_id()) for e in entries]

    if mode == "off":
        chain.append = no_log
    if os.environ.get("BENCH_SWITCH"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH"]))
    run("127.0.0.1", port, 2, 4)


def throughput(args, tmp: Path) -> bool:
    """Both servers up at once, loaded in turn, one-second slices, so both meet the same noise."""
    template = tmp / "demo.db"
    subprocess.run([AUTHZ, "demo", "--no-key"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "AUTHZ_DATABASE_URL": f"sqlite:///{template}"})
    got = {m: {"ok": 0, "bad": 0, "cpu": 0.0, "slices": []} for m in ("off", "on")}
    with served("off", template, tmp) as off, served("on", template, tmp) as on:
        servers = {"off": off, "on": on}
        for port, _ in servers.values():
            drive(port, 1.0, args.connections)  # warm every worker
        for turn in range(int(args.seconds)):
            for mode in ("off", "on") if turn % 2 else ("on", "off"):
                port, group = servers[mode]
                cpu = cpu_seconds(group)
                ok, bad = drive(port, 1.0, args.connections)
                tally = got[mode]
                tally["cpu"] += cpu_seconds(group) - cpu
                tally["ok"], tally["bad"] = tally["ok"] + ok, tally["bad"] + bad
                tally["slices"].append(ok)
        activity_line = served_activity(servers["on"][0], args.reads * 2)
        if args.quick:  # a server too busy to answer within its slices is slow, not broken: ask it once, patiently
            for mode, (port, _) in servers.items():
                if not got[mode]["ok"]:
                    got[mode]["ok" if one_answer(port) == 200 else "bad"] += 1
    met = _report(args, got)
    print(activity_line)
    if args.quick and (got["on"]["bad"] or got["off"]["bad"] or not got["on"]["ok"] or not got["off"]["ok"]):
        raise SystemExit("the quick run saw answers other than 200, or none at all")
    return met


def served_activity(port: int, reads: int) -> str:
    """An activity page over HTTP right after a decision: the log writer stores the spool first."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    body = json.dumps({"user": "ian@initech.example", "action": "port.view", "account": "initech"})
    took = []
    for _ in range(reads):
        conn.request("POST", "/v1/authorize", body, headers)
        conn.getresponse().read()
        began = time.perf_counter()
        conn.request("GET", "/v1/accounts/initech/activity?user=ian@initech.example&limit=50", headers=headers)
        response = conn.getresponse()
        response.read()
        took.append((time.perf_counter() - began) * 1000)
        assert response.status == 200, response.status
    took.sort()
    return (f"  served activity page right after a decision (sync with the log writer first): "
            f"median {statistics.median(took):.1f} ms, p95 {took[int(len(took) * 0.95)]:.1f} ms")


def one_answer(port: int) -> int:
    """The status of one authorize request, waiting up to a minute for it."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"user": "ian@initech.example", "action": "port.view", "account": "initech"})
    conn.request("POST", "/v1/authorize", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status


def _report(args, got: dict) -> bool:
    rate = {m: g["ok"] / args.seconds for m, g in got.items()}
    cpu = {m: g["cpu"] / max(g["ok"], 1) * 1e6 for m, g in got.items()}
    cost = 1 - rate["on"] / rate["off"] if rate["off"] else float("nan")  # nan: no answer to compare
    cpu_cost = 1 - cpu["off"] / cpu["on"] if cpu["on"] else float("nan")
    print(f"authorize over HTTP: gunicorn 2 workers x 4 threads on SQLite, {args.connections} "
          f"connections, {int(args.seconds)} one-second slices each, log off and on in turn")
    for mode, g in got.items():
        print(f"  log {mode:3s} {rate[mode]:7.0f} decisions/s   {cpu[mode]:6.0f} µs server CPU "
              f"each   non-200: {g['bad']}   median slice {statistics.median(g['slices']):.0f}/s")
    print(f"  the log costs {cost:.1%} of throughput and {cpu_cost:.1%} of server CPU "
          "(target: at most 10%, with the Merkle tree and a checkpoint signed every second)")
    return cost <= 0.10


def fill(count: int) -> None:
    """`count` chained entries over 1,000 customers, initech holding 1 in 20, 10,000 a commit."""
    from datetime import datetime, timedelta

    from authz_service.log import chain

    start, rng = datetime(2026, 1, 1), random.Random(7)
    for first in range(0, count, 10_000):
        batch = []
        for n in range(first, min(first + 10_000, count)):
            user, action, account = MIX[n % len(MIX)]
            account = account if n % 20 == 0 else f"c{rng.randrange(1000):04d}"
            batch.append(chain._prepare({
                "at": start + timedelta(milliseconds=n * 30), "user_email": user,
                "account_id": account, "log_account": account, "action": action,
                "allowed": n % 3 != 0, "group": "regular", "rule": "policies/services.csv:10",
                "reason": "bench", "caller": "bench"}))
        chain.write([chain.Ticket(batch, None)])  # chained and added to the Merkle tree, as the writer does


def activity_pages(args, tmp: Path) -> bool:
    """Median and p95 of an activity page and of /v1/decisions pages at `entries` entries."""
    from authz_service import store
    from authz_service.app import create_app
    from authz_service.store import fixtures

    app = create_app({"database_url": f"sqlite:///{tmp}/big.db", "bootstrap_key": KEY,
                      "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
        began = time.perf_counter()
        fill(args.entries)
        filled = time.perf_counter() - began
    client, headers = app.test_client(), {"Authorization": f"Bearer {KEY}"}
    first = client.get("/v1/accounts/initech/activity?user=ian@initech.example", headers=headers)
    queries = {"activity, first page": "/v1/accounts/initech/activity?user=ian@initech.example",
               "activity, next page": "/v1/accounts/initech/activity?user=ian@initech.example"
                                      f"&cursor={first.json['next_cursor']}",
               "decisions?user=": "/v1/decisions?user=ivy@initech.example",
               "decisions?allowed=false": "/v1/decisions?allowed=false",
               "decisions?since=&until=": "/v1/decisions?since=2026-01-01T01:00:00Z"
                                          "&until=2026-01-01T02:00:00Z"}
    print(f"pages of 50 at {args.entries:,} entries (filled in {filled:.0f} s), Flask test "
          "client, each read an activity.view decision recorded first:")
    times = {}
    for name, path in queries.items():
        took = []
        for _ in range(args.reads):
            began = time.perf_counter()
            assert client.get(path, headers=headers).status_code == 200
            took.append((time.perf_counter() - began) * 1000)
        times[name] = statistics.median(took)
        print(f"  {name:26s} median {times[name]:6.1f} ms   p95 "
              f"{statistics.quantiles(took, n=20)[18]:6.1f} ms")
    print("  target: an activity page under 20 ms")
    return times["activity, first page"] < 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30, help="seconds of load for each server")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--pages-only", action="store_true", help="skip the throughput part")
    parser.add_argument("--reads", type=int, default=30, help="timed reads of each page")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 s of load, 20,000 entries, 5 reads of each page")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--log", default="on", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.entries, args.reads = 2, 20_000, 5
    if args.serve:
        serve(args.serve, args.log)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fast = args.pages_only or throughput(args, Path(tmp))
        pages = activity_pages(args, Path(tmp))
    print("PASS" if fast and pages else "MISS", "targets: log cost <= 10%, activity page < 20 ms")
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
    return 1 if args.strict and not (fast and pages) else 0


if __name__ == "__main__":
    sys.exit(main())
