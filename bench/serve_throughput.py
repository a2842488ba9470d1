"""Served throughput and latency of POST /v1/authorize against a bare Flask endpoint (wrk, loopback).

The authorize requests carry a stored API key with the `decide` scope (made with `authz keys
create`), as a calling service's do; the bare endpoint ignores it.

    .venv/bin/python bench/serve_throughput.py [--seconds 10] [--postgres URL] [--strict]
    .venv/bin/python bench/serve_throughput.py --quick   # a smoke run: every server, 1 s runs

Without wrk it says so and exits 0 (the Makefile installs wrk where apt-get can).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.server import AUTHZ, KEY, Server, free_port  # noqa: E402

LUA = """
local bodies = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "/v1/authorize", nil, bodies[i])
end
"""
CHECKS = [("rita@acme.example", "port.create", "initech"), ("sam@acme.example", "port.edit", "initech"),
          ("ada@acme.example", "billing.view", "umbrella"), ("gina@globex.example", "port.view", "acme"),
          ("ian@initech.example", "port.delete", "initech"), ("lee@acme.example", "port.view", "hooli")]


def lua_script(directory: Path, key: str = KEY) -> Path:
    bodies = ", ".join(f"'{{\"user\": \"{u}\", \"action\": \"{a}\", \"account\": \"{c}\"}}'" for u, a, c in CHECKS)
    path = directory / "authorize.lua"
    path.write_text(LUA % (bodies, key))
    return path


def decide_key(server: Server, scope: str = "decide") -> str:
    """A new stored key with the `decide` scope (or another) on this server's database."""
    made = subprocess.run([str(AUTHZ), "keys", "create", f"bench-{scope}", "--scope", scope], cwd=ROOT, env=server.env,
                          check=True, capture_output=True, text=True, timeout=60)
    return made.stdout.strip()


WRK_THREADS = 2
WORKERS, THREADS = 2, 1  # as `authz serve` starts by default


def wrk(port: int, script: Path, connections: int, seconds: int) -> dict:
    """Requests/s, p50 and p99 (ms) from one wrk run."""
    out = subprocess.run(["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": _ms(out, "50%"), "p99": _ms(out, "99%"),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non2xx": int(errors.group(1)) if errors else 0}


def cpu_seconds(group: int | None = None, pid: int | None = None) -> float:
    """User + system CPU, from /proc, of every live process in a process group (a server and its
    children: workers, log writer), or of one process (all its threads)."""
    total = 0.0
    for one in filter(str.isdigit, os.listdir("/proc")) if pid is None else [str(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if pid is not None or int(fields[2]) == group:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def worker_rss_mb(master_pid: int) -> list[float]:
    """VmRSS of each gunicorn worker (children of the master)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sizes


def bare_server(port: int, log) -> subprocess.Popen:
    """bench/bare_app.py under exactly `authz serve`'s gunicorn settings (serve.gunicorn_options)."""
    process = subprocess.Popen([sys.executable, "-m", "bench.bare_app", str(port), str(WORKERS), str(THREADS)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the bare endpoint did not start on port {port}")


BARE = "bare Flask JSON endpoint"
ROUNDS = 3  # the 4-connection runs, taken in turns: the p99 reported is their median


def measure(targets: dict[str, tuple[int, Path]], seconds: int, rounds: int = ROUNDS) -> dict[str, dict]:
    """Every endpoint (port, wrk script), in turns: one run at 32 connections, then `rounds` runs
    at 4 (so all meet the same background noise); the 4-connection figures are the median over the rounds."""
    for port, script in targets.values():
        wrk(port, script, 8, min(2, seconds))  # warm up every worker
    got = {name: {"name": name, "c32": wrk(port, script, 32, seconds), "c4s": []}
           for name, (port, script) in targets.items()}
    for _ in range(rounds):
        for name, (port, script) in targets.items():
            got[name]["c4s"].append(wrk(port, script, 4, max(min(2, seconds), seconds // 2)))
    for row in got.values():
        row["c4"] = {"rps": statistics.median(r["rps"] for r in row["c4s"]),
                     "p99": statistics.median(r["p99"] for r in row["c4s"]),
                     "non2xx": sum(r["non2xx"] for r in row["c4s"]),
                     "p99s": [r["p99"] for r in row["c4s"]]}
    return got


def report(rows: list[dict], bare: dict, rss: dict) -> bool:
    print(f"{'endpoint':34s} {'req/s @32':>10s} {'p50 ms':>7s} {'p99 ms':>7s} {'req/s @4':>9s} {'p99 ms @4':>9s} {'non-2xx':>7s}")
    for row in [bare, *rows]:
        c32, c4 = row["c32"], row["c4"]
        print(f"{row['name']:34s} {c32['rps']:10.0f} {c32['p50']:7.2f} {c32['p99']:7.2f} {c4['rps']:9.0f} "
              f"{c4['p99']:9.2f} {c32['non2xx'] + c4['non2xx']:7d}")
    ok = True
    for row in rows:
        ratio = row["c32"]["rps"] / bare["c32"]["rps"]
        p99 = row["c4"]["p99"]
        print(f"{row['name']}: {ratio:.0%} of the bare endpoint at 32 connections (target >= 70%), "
              f"p99 at 4 connections {p99:.2f} ms, median of {', '.join(f'{x:.2f}' for x in row['c4']['p99s'])} "
              f"(target < 5 ms; bare: {', '.join(f'{x:.2f}' for x in bare['c4']['p99s'])}), workers {', '.join(f'{m:.0f}' for m in rss[row['name']])} MB "
              f"(target < 200 MB each)")
        answered = row["c32"]["non2xx"] + row["c4"]["non2xx"] == 0  # a 401 or 503 is no decision
        ok &= ratio >= 0.7 and p99 < 5 and all(m < 200 for m in rss[row["name"]]) and answered
    print("PASS" if ok else "FAIL", "all targets")
    return ok


def answered(rows: list[dict]) -> bool:
    """Every endpoint answered requests, all of them 2xx: what a smoke run must see."""
    runs = [run for row in rows for run in (row["c32"], *row["c4s"])]
    return all(run["rps"] > 0 and run["non2xx"] == 0 for run in runs)


def machine_reference() -> float:
    """Seconds for a fixed piece of pure-Python work: how fast this machine is right now
    (the same code has given 0.32 to 0.45 s here within an hour), to compare runs by."""
    start = time.perf_counter()
    sum(range(10**7))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("AUTHZ_TEST_POSTGRES_URL", ""),
                        help="also measure on this PostgreSQL (emptied of the service's tables)")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--wrk-threads", type=int, default=WRK_THREADS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 s per wrk run, one 4-connection round; fails only if a request "
                             "is not answered 2xx, never on a timing")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 1
    globals().update(WRK_THREADS=args.wrk_threads, WORKERS=args.workers, THREADS=args.threads)
    if not shutil.which("wrk"):
        print("bench/serve_throughput.py: skipped, wrk is not installed (apt-get install -y wrk)")
        return 0
    print(f"bench/serve_throughput.py: wrk -t{WRK_THREADS}, {args.seconds}s per run, gunicorn {WORKERS} workers x {THREADS} threads (gthread, balanced accept), loopback, {os.cpu_count()} cores")
    reference = machine_reference()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        bare_process = bare_server(port, (Path(tmp) / "bare.log").open("ab"))
        targets, servers = {BARE: (port, lua_script(Path(tempfile.mkdtemp(dir=tmp))))}, {}
        backends = [("authorize, SQLite, log on", {})]
        if args.postgres:
            from tests.support import backends as test_backends

            backends.append(("authorize, PostgreSQL, log on", {"AUTHZ_DATABASE_URL": test_backends.postgres_url(drop=True)}))
        try:
            for name, env in backends:
                server = servers[name] = Server(Path(tempfile.mkdtemp(dir=tmp)), workers=WORKERS, threads=THREADS, env=env)
                server.load_demo()
                key = decide_key(server)
                server.start()
                targets[name] = (server.port, lua_script(Path(tempfile.mkdtemp(dir=tmp)), key))
            got = measure(targets, args.seconds, 1 if args.quick else ROUNDS)
            rss = {name: worker_rss_mb(server.process.pid) for name, server in servers.items()}
        finally:
            os.killpg(bare_process.pid, signal.SIGTERM)
            for server in servers.values():
                server.stop()
        bare, rows = got.pop(BARE), list(got.values())
    ok = report(rows, bare, rss)
    print(f"machine reference (sum(range(10**7))): {reference:.3f} s before the run, "
          f"{machine_reference():.3f} s after")
    if args.quick:
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
        return 0 if answered([bare, *rows]) else 1
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
