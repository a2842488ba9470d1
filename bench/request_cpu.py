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


def requests() -> list[bytes]:
    out = []
    for user, action, account in CHECKS:
        body = json.dumps({"user": user, "action": action, "account": account}).encode()
        out.append(b"POST /v1/authorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\n\r\n" + body)
    return out


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


def time_requests(one, reqs: list[bytes], n: int) -> float:
    """Microseconds per request over n requests on one kept-alive connection."""
    from gunicorn.workers.gthread import TConn

    server, client = socket.socketpair()
    conn = TConn(one.cfg, server, ("127.0.0.1", 40000), ("127.0.0.1", 8080))
    try:
        start = time.perf_counter()
        for i in range(n):
            client.sendall(reqs[i % len(reqs)])
            if one.handle(conn) is not True:
                raise SystemExit("the request was not answered with keep-alive")
            if b" 200 OK" not in client.recv(65536)[:20]:
                raise SystemExit("the request was not answered 200")
        return (time.perf_counter() - start) / n * 1e6
    finally:
        server.close()
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="smoke run: one round of 50 requests")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.requests = 1, 50
    configs = {"python parser, access line via logging": ("python", False),
               "C parser, direct access line (shipped)": ("fast", True)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
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
