"""CPU time of one request through gunicorn's request handling, in one thread (no scheduler).

bench/serve_throughput.py measures the served endpoints with wrk, whose figures on a 2-core machine
follow how the machine schedules wrk and the workers as much as the request itself.
This one runs gunicorn's own per-request code (ThreadWorker.handle: parse, WSGI call,
response, access log) over a socket pair, one request at a time, for the bare endpoint
and for POST /v1/authorize, with gunicorn's Python parser and logging-based access
line against the shipped settings (C parser, direct access line). Configurations are
timed in turns; each figure is the median over the rounds.

    .venv/bin/python bench/request_cpu.py [--rounds 7] [--requests 600]
    .venv/bin/python bench/request_cpu.py --quick   # a smoke run: one round of 50 requests
    .venv/bin/python bench/request_cpu.py --decisions [--rounds 5 --requests 2000]

Since decision 047 a worker with one thread answers plain decision requests in its poller
(serving/inline.py), not through ThreadWorker.handle: the figures here are the thread's way,
which every other request and `--threads N > 1` take; bench/peers.py measures the shipped way.

--decisions measures CPU time (user + sys of this one process, so the machine's other load
does not count) per request and per decision for bench/peers.py's three requests, and the log
writer's per entry it stores (docs/decisions/041-cpu-per-decision.md). Compare two versions
in turns (`--only` one kind), each run's own figures: CPU time still grows with the load of
a shared machine (caches, hyperthreads), less than wall time does.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serve_throughput import BARE, CHECKS  # noqa: E402  (the same requests and names as the served bench)
from tests.support.server import KEY  # noqa: E402


def post(path: str, body: dict) -> bytes:
    raw = json.dumps(body).encode()
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: " + str(len(raw)).encode()
            + b"\r\n\r\n" + raw)


def requests() -> list[bytes]:
    return [post("/v1/authorize", {"user": u, "action": a, "account": c}) for u, a, c in CHECKS]


def decision_requests() -> dict[str, tuple[list[bytes], int]]:
    """name -> (requests, decisions per request): bench/peers.py's three kinds of request."""
    evaluations = [{"subject": {"type": "user", "id": u}, "action": {"name": a},
                    "resource": {"type": "account", "id": c}} for u, a, c in CHECKS]
    batch = {"subject": evaluations[0]["subject"],
             "evaluations": [{k: e[k] for k in ("action", "resource")} for e in (evaluations * 100)[:100]]}
    return {"/v1/authorize": (requests(), 1),
            "AuthZEN evaluation": ([post("/access/v1/evaluation", e) for e in evaluations], 1),
            "AuthZEN evaluations, 100 items": ([post("/access/v1/evaluations", batch)], 100)}


def apps(tmp: Path) -> dict:
    """The bare endpoint and the service on the demo data (SQLite), appending to a spool file
    as a worker of `authz serve` does."""
    os.environ.update(AUTHZ_DATABASE_URL=f"sqlite:///{tmp}/authz.db", AUTHZ_BOOTSTRAP_KEY=KEY,
                      AUTHZ_LOG_SPOOL_DIR=str(tmp))
    subprocess.run([str(Path(sys.executable).parent / "authz"), "demo", "--no-key"], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    from authz_service.log import spool

    os.environ[spool.SPOOL_ENV] = str(tmp / "bench.spool")  # nobody stores it: appends only
    os.environ[spool.SOCKET_ENV] = str(tmp / "no-writer.sock")
    from authz_service.app import create_app
    from bench.bare_app import app as bare

    return {BARE: bare, "authorize, SQLite, log on": create_app(migrate=True)}


def worker(app, parser: str, direct_log: bool, log_path: Path):
    """A gthread worker object with `authz serve`'s settings, serving `app` in this thread."""
    from gunicorn.config import Config
    from gunicorn.workers.gthread import ThreadWorker

    from authz_service.serving.access_log import JsonAccessLogger
    from authz_service.serving.serve import gunicorn_options

    class ViaLogging(JsonAccessLogger):
        def _write(self, line):
            self.access_log.info("%s", line)

    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1", 0, 2, 4).items():
        if key != "worker_class":
            cfg.set(key, value)
    cfg.set("http_parser", parser)
    cfg.set("accesslog", str(log_path))
    log = (JsonAccessLogger if direct_log else ViaLogging)(cfg)
    one = ThreadWorker(0, os.getppid(), [], None, 30, cfg, log)
    one.wsgi, one.alive = app, True
    return one


def time_requests(one, reqs: list[bytes], n: int, clock=time.perf_counter) -> float:
    """Microseconds per request over n requests on one kept-alive connection (`clock`'s)."""
    from gunicorn.workers.gthread import TConn

    server, client = socket.socketpair()
    conn = TConn(one.cfg, server, ("127.0.0.1", 40000), ("127.0.0.1", 8080))
    try:
        start = clock()
        for i in range(n):
            client.sendall(reqs[i % len(reqs)])
            if one.handle(conn) is not True:
                raise SystemExit("the request was not answered with keep-alive")
            if b" 200 OK" not in _answer(client)[:20]:
                raise SystemExit("the request was not answered 200")
        return (clock() - start) / n * 1e6
    finally:
        server.close()
        client.close()


def _answer(client: socket.socket) -> bytes:
    """One whole answer (a 100-item one spans several reads)."""
    data = client.recv(1 << 20)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += client.recv(1 << 20)
    return data


def decision_cpu(one, spool_path: Path, rounds: int, n: int, only: str | None) -> None:
    """CPU time (this process: user + sys) per request of each kind and per decision, shipped
    settings, the decision log on; then the log writer's CPU per entry storing what they spooled."""
    from authz_service.log.ingest import Ingester

    store_spool = Ingester(str(spool_path), dedupe=False)
    store_spool.step()  # what earlier runs appended: not this measure's
    print(f"CPU time per request and per decision (process time, user + sys; median of {rounds} rounds; "
          f"gunicorn's handling with the shipped settings, the app, the spool append):")
    for name, (reqs, per) in decision_requests().items():
        if only not in (None, "writer") and not name.startswith(only) or only == "writer" and per > 1:
            continue
        count = max(1, n // per)
        time_requests(one, reqs, max(1, count // 4), time.process_time)  # warm up
        got = statistics.median(time_requests(one, reqs, count, time.process_time) for _ in range(rounds))
        print(f"  {name:32s} {got:9.0f} µs a request {got / per:7.1f} µs a decision ({count} x {rounds})")
    if only in (None, "writer"):
        before = time.process_time()
        stored = store_spool.step()
        spent = time.process_time() - before
        print(f"  {'log writer, per entry stored':32s} {spent / max(stored, 1) * 1e6:9.1f} µs "
              f"({stored} entries in batches of up to 2,000, SQLite)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="smoke run: one round of 50 requests")
    parser.add_argument("--decisions", action="store_true",
                        help="only the CPU time per decision (authorize, AuthZEN, 100 items, the log writer)")
    parser.add_argument("--only", help="with --decisions: one kind (/v1/authorize, AuthZEN evaluation, "
                        "AuthZEN evaluations, writer: the authorize requests, then the writer)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.requests = 1, 50
    configs = {"python parser, access line via logging": ("python", False),
               "C parser, direct access line (shipped)": ("fast", True)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.decisions:
            service = apps(tmp)["authorize, SQLite, log on"]
            decision_cpu(worker(service, "fast", True, tmp / "access.log"), tmp / "bench.spool",
                         args.rounds, args.requests, args.only)
            return 0
        reqs = requests()
        servers = {(name, label): worker(app, p, direct, tmp / "access.log")
                   for name, app in apps(tmp).items() for label, (p, direct) in configs.items()}
        for one in servers.values():
            time_requests(one, reqs, min(200, args.requests))  # warm up
        got = {key: [] for key in servers}
        for _ in range(args.rounds):
            for key, one in servers.items():
                got[key].append(time_requests(one, reqs, args.requests))
    print(f"bench/request_cpu.py: {args.rounds} rounds x {args.requests} requests, one thread, "
          f"median µs per request (CPU of gunicorn's request handling and the app)")
    print(f"{'endpoint':28s} " + " ".join(f"{label:>40s}" for label in configs) + f" {'shipped/before':>15s}")
    median = {key: statistics.median(values) for key, values in got.items()}
    for name in dict.fromkeys(name for name, _ in servers):
        before, shipped = (median[(name, label)] for label in configs)
        print(f"{name:28s} {before:40.0f} {shipped:40.0f} {shipped / before:15.2f}")
    names = list(dict.fromkeys(name for name, _ in servers))
    shipped_label = list(configs)[1]
    print(f"authorize / bare, shipped settings: "
          f"{median[(names[1], shipped_label)] / median[(names[0], shipped_label)]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
