"""`authz serve` against the Cerbos PDP (0.55.0, from the npm registry), side by side on this machine.

Both answer the same questions about the demo data, both record every decision (ours in its
decision log, Cerbos in its file audit log), and wrk sends both the same load in turns:

- `/v1/authorize` against Cerbos's `/api/check/resources`, one action on one account;
- AuthZEN evaluation: the *same* request body to both (`/access/v1/evaluation`);
- a batch of 100 checks: our AuthZEN `/access/v1/evaluations` (100 items) against Cerbos's
  `/api/check/resources` with 100 resources; figures in checks/s.

Cerbos is given what it needs in each request (its usual way: the caller names the principal's
role), the group our policy gives the user on that account; its policy is generated from our
decision table, so the two agree on every check (the bench asks both and prints disagreements).
Ours reads the facts from its own database for every decision.

    .venv/bin/python bench/peers.py [--seconds 10] [--strict]
    .venv/bin/python bench/peers.py --quick     # smoke: every path once, 1 s runs, no target

Without wrk or npm it says so and exits 0. Cerbos is fetched once with `npm pack` into
var/bench/ (loopback and the npm registry only).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.peers_cerbos import cerbos_policy, cerbos_server, check_body, checks_of_demo  # noqa: E402
from bench.serve_throughput import WORKERS, cpu_seconds, decide_key, machine_reference, wrk  # noqa: E402
from tests.support.server import Server, free_port  # noqa: E402

CERBOS_VERSION = "0.55.0"
CACHE = ROOT / "var" / "bench" / f"cerbos-{CERBOS_VERSION}"
BATCH = 100

LUA = """
local bodies = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%s
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "%s", nil, bodies[i])
end
"""


def cerbos_binary() -> Path | None:
    """The Cerbos PDP from the npm registry (`@cerbos/cerbos-linux-x64`), fetched once."""
    binary = CACHE / "cerbos"
    if binary.exists():
        return binary
    if not shutil.which("npm"):
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", f"@cerbos/cerbos-linux-x64@{CERBOS_VERSION}"], cwd=tmp,
                       check=True, capture_output=True, timeout=600)
        (tgz,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tgz) as tar:
            member = tar.getmember("package/cerbos-linux-x64")
            member.name = "cerbos"
            tar.extract(member, CACHE, filter="data")
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60).stdout
    if not version.startswith(CERBOS_VERSION):
        raise SystemExit(f"expected Cerbos {CERBOS_VERSION}, got {version!r}")
    return binary


def lua(directory: Path, name: str, path: str, bodies: list[dict], key: str | None) -> Path:
    """A wrk script cycling through the bodies, with our key where the server wants one."""
    quoted = ", ".join("'" + json.dumps(body, separators=(",", ":")) + "'" for body in bodies)
    header = f'wrk.headers["Authorization"] = "Bearer {key}"' if key else ""
    script = directory / f"{name}.lua"
    script.write_text(LUA % (quoted, header, path))
    return script


def post(port: int, path: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def authzen_body(check: dict) -> dict:
    """One AuthZEN evaluation, in the shape both servers accept: the subject's roles and the
    account's kind are properties, which Cerbos reads and ours ignores (it reads its database)."""
    return {"subject": {"type": "user", "id": check["user"], "properties": {"roles": [check["role"]]}},
            "action": {"name": check["action"]},
            "resource": {"type": "account", "id": check["account"], "properties": {"kind": check["kind"]}}}


def agreement(ours_port: int, key: str, cerbos_port: int, checks: list[dict]) -> list[str]:
    """Every check asked of both, one by one: the checks on which they disagree."""
    wrong = []
    for check in checks:
        _, mine = post(ours_port, "/v1/authorize", {k: check[k] for k in ("user", "action", "account")}, key)
        _, theirs = post(cerbos_port, "/api/check/resources", check_body([check]))
        effect = theirs.get("results", [{}])[0].get("actions", {}).get(check["action"])
        if mine.get("allowed") != (effect == "EFFECT_ALLOW"):
            wrong.append(f"{check['user']} {check['action']} {check['account']}: ours {mine.get('allowed')}, "
                         f"Cerbos {effect}")
    return wrong


def one_user_batches(checks: list[dict]) -> list[list[dict]]:
    """Batches of BATCH checks, each about one user (a Cerbos request has one principal)."""
    by_user: dict[str, list[dict]] = {}
    for check in checks:
        by_user.setdefault(check["user"], []).append(check)
    return [mine[i:i + BATCH] for mine in by_user.values() for i in range(0, len(mine) - BATCH + 1, BATCH)]


def targets(tmp: Path, ours: int, key: str, cerbos: int, checks: list[dict], has_authzen: bool) -> dict:
    """name -> (port, wrk script, checks per request), pairs side by side."""
    singles = [{k: c[k] for k in ("user", "action", "account")} for c in checks]
    batches = one_user_batches(checks)
    got = {
        "ours /v1/authorize": (ours, lua(tmp, "ours_authorize", "/v1/authorize", singles, key), 1),
        "Cerbos /api/check/resources": (cerbos, lua(tmp, "cerbos_check", "/api/check/resources",
                                                    [check_body([c]) for c in checks], None), 1),
        "Cerbos AuthZEN evaluation": (cerbos, lua(tmp, "cerbos_authzen", "/access/v1/evaluation",
                                                  [authzen_body(c) for c in checks], None), 1),
        f"Cerbos check, {BATCH} resources": (cerbos, lua(tmp, "cerbos_batch", "/api/check/resources",
                                                         [check_body(b) for b in batches], None), BATCH),
    }
    if has_authzen:
        evaluations = [{"subject": authzen_body(b[0])["subject"],
                        "evaluations": [{k: v for k, v in authzen_body(c).items() if k != "subject"} for c in b]}
                       for b in batches]
        got["ours AuthZEN evaluation"] = (ours, lua(tmp, "ours_authzen", "/access/v1/evaluation",
                                                    [authzen_body(c) for c in checks], key), 1)
        got[f"ours AuthZEN evaluations, {BATCH} items"] = (
            ours, lua(tmp, "ours_batch", "/access/v1/evaluations", evaluations, key), BATCH)
    return got


def measure(runs: dict, seconds: int, rounds: int, settle=lambda: None, cpu=None) -> dict:
    """Each target at 32 connections, then `rounds` turns at 4 connections (p50, p99: their median).
    `settle()` runs before each run: our log writer stores what the previous run spooled (a
    100-item run leaves ~100k entries), so that no run pays for the one before it. `cpu[port]()`
    reads a server's CPU seconds: a 32-connection run's CPU is read from before it to after the
    settle that follows it, so ours includes storing what the run spooled."""
    cpu = cpu or {}
    for port, script, _ in runs.values():
        wrk(port, script, 8, min(2, seconds))
    got = {}
    for name, (port, script, per) in runs.items():
        settle()
        began = cpu[port]() if port in cpu else None
        row = got[name] = {"c32": wrk(port, script, 32, seconds), "c4": [], "per": per}
        settle()
        if began is not None:
            row["cpu_us"] = (cpu[port]() - began) / max(row["c32"]["requests"] * per, 1) * 1e6
    for _ in range(rounds):
        for name, (port, script, _) in runs.items():
            settle()
            got[name]["c4"].append(wrk(port, script, 4, max(1, seconds // 2)))
    return got


def settled(port: int, key: str):
    """A settle() for measure: GET /v1/decisions answers once the log writer has stored every
    entry spooled so far (log/chain.py sync). A sync waits 10 s at most, then answers 503: a
    100-item run can leave more than 10 s of storing, so it asks again, for up to 5 minutes."""
    def settle() -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/decisions?limit=1",
                                         headers={"Authorization": f"Bearer {key}"})
        for _ in range(30):
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                    return
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise
        raise RuntimeError("the log writer did not catch up within 5 minutes")
    return settle


def report(got: dict) -> bool:
    print(f"{'endpoint':40s} {'req/s @32':>10s} {'checks/s @32':>13s} {'CPU µs/check':>13s} "
          f"{'p50 ms @4':>10s} {'p99 ms @4':>10s} {'non-2xx':>8s}")
    for name, row in got.items():
        middle = len(row["c4"]) // 2
        p50, p99 = (sorted(r[q] for r in row["c4"])[middle] for q in ("p50", "p99"))
        bad = row["c32"]["non2xx"] + sum(r["non2xx"] for r in row["c4"])
        row["p99"], row["bad"] = p99, bad
        cpu = f"{row['cpu_us']:13.1f}" if "cpu_us" in row else f"{'-':>13s}"
        print(f"{name:40s} {row['c32']['rps']:10.0f} {row['c32']['rps'] * row['per']:13.0f} {cpu} "
              f"{p50:10.2f} {p99:10.2f} {bad:8d}")
    pairs = [("ours /v1/authorize", "Cerbos /api/check/resources", 1.5),
             ("ours AuthZEN evaluation", "Cerbos AuthZEN evaluation", 1.5),
             (f"ours AuthZEN evaluations, {BATCH} items", f"Cerbos check, {BATCH} resources", 3.0)]
    ok = True
    for mine, theirs, target in pairs:
        if mine not in got:
            print(f"{mine}: absent on this server")
            ok = False
            continue
        ratio = got[mine]["c32"]["rps"] * got[mine]["per"] / (got[theirs]["c32"]["rps"] * got[theirs]["per"])
        faster = got[mine]["p99"] <= got[theirs]["p99"]
        print(f"{mine} / {theirs}: {ratio:.2f}x at 32 connections (target >= {target}x); p99 at 4 connections "
              f"{got[mine]['p99']:.2f} ms against {got[theirs]['p99']:.2f} ms (target: not above)")
        if "cpu_us" in got[mine] and "cpu_us" in got[theirs]:
            print(f"    CPU a check, all processes of each server: {got[mine]['cpu_us']:.1f} µs against "
                  f"{got[theirs]['cpu_us']:.1f} µs (theirs: {got[theirs]['cpu_us'] / max(got[mine]['cpu_us'], 1e-9):.2f}x ours)")
        ok &= ratio >= target and (faster or target > 1.5)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 s runs, one round, no target")
    parser.add_argument("--workers", type=int, default=WORKERS, help="ours: gunicorn workers (`authz serve`'s default)")
    parser.add_argument("--threads", type=int, default=1, help="ours: threads per worker (`authz serve`'s default)")
    parser.add_argument("--server", choices=("gunicorn", "granian"), help="ours: the HTTP front (`authz serve`'s default)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 1, 1
    if not shutil.which("wrk"):
        print("bench/peers.py: skipped, wrk is not installed (apt-get install -y wrk)")
        return 0
    binary = cerbos_binary()
    if binary is None:
        print("bench/peers.py: skipped, npm is not installed (Cerbos comes from the npm registry)")
        return 0
    print(f"bench/peers.py: ours ({args.server or 'default front'}, {args.workers} workers x {args.threads} threads, SQLite, decision log on) against Cerbos "
          f"{CERBOS_VERSION} (file audit log on), wrk {args.seconds}s per run, loopback")
    reference = machine_reference()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "ours").mkdir()
        server = Server(tmp / "ours", workers=args.workers, threads=args.threads, server=args.server)
        server.load_demo()
        key = decide_key(server)
        checks = checks_of_demo(server.env["AUTHZ_DATABASE_URL"])
        (tmp / "cerbos").mkdir()
        cerbos_policy(tmp / "cerbos" / "policies")
        cerbos_port = free_port()
        cerbos = cerbos_server(binary, tmp / "cerbos", cerbos_port, free_port())
        try:
            server.start()
            wrong = agreement(server.port, key, cerbos_port, checks)
            has_authzen = post(server.port, "/access/v1/evaluation", authzen_body(checks[0]), key)[0] == 200
            meters = {server.port: lambda: cpu_seconds(group=server.process.pid),  # its own session
                      cerbos_port: lambda: cpu_seconds(pid=cerbos.pid)}
            got = measure(targets(tmp, server.port, key, cerbos_port, checks, has_authzen), args.seconds,
                          args.rounds, settled(server.port, decide_key(server, "audit")), meters)
        finally:
            server.stop()
            cerbos.terminate()
            cerbos.wait(timeout=30)
        audit_lines = sum(1 for _ in (tmp / "cerbos" / "audit.log").open())
    print(f"{len(checks)} distinct checks; disagreements between the two: {len(wrong)}")
    for line in wrong[:10]:
        print("  ", line)
    ok = report(got) and not wrong
    print(f"Cerbos audit log: {audit_lines} lines written")
    print(f"machine reference (sum(range(10**7))): {reference:.3f} s before, {machine_reference():.3f} s after")
    if args.quick:
        answered = all(row["c32"]["rps"] > 0 and row["bad"] == 0 for row in got.values())
        print("quick run: a smoke test of the whole path; the figures are not compared with any target")
        return 0 if answered and not wrong else 1
    print("PASS" if ok else "FAIL", "all targets")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
