"""The Cerbos side of bench/peers.py: its policy generated from our decision table, its server,
its request bodies, and the checks both are asked (every demo user on every demo account)."""

import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path

from authz_service import policy, store
from authz_service.decide.gather import gather
from authz_service.policy import NONE

ROOT = Path(__file__).resolve().parents[1]
NOBODY = "nobody"  # Cerbos wants a role; a user who holds no group here gets this one, which no rule names

CONFIG = """server:
  httpListenAddr: "127.0.0.1:{http}"
  grpcListenAddr: "127.0.0.1:{grpc}"
  requestLimits:
    maxResourcesPerRequest: 100  # the default, 50, is less than the batch asked of both
storage:
  driver: disk
  disk:
    directory: "{policies}"
    watchForChanges: false
audit:
  enabled: true
  accessLogsEnabled: false
  decisionLogsEnabled: true
  backend: file
  file:
    path: "{audit}"
"""


def cerbos_policy(folder: Path) -> Path:
    """A resource policy for `account`: per group and account kind, the actions our decision
    table allows that group there (without a view session); Cerbos reads the kind from the
    resource's attributes, the group from the principal's roles."""
    loaded = policy.load(ROOT / "policies")
    allowed: dict[tuple[str, str], set[str]] = {}
    for (kind, _rel, _home, _link, session, action), verdict in loaded.table.items():
        if session == "none" and verdict.group and kind != NONE and verdict.allowed:
            allowed.setdefault((verdict.group, kind), set()).add(action)
    rules = []
    for (group, kind), actions in sorted(allowed.items()):
        rules.append(f"""    - actions: [{", ".join(f'"{a}"' for a in sorted(actions))}]
      effect: EFFECT_ALLOW
      roles: ["{group}"]
      condition:
        match:
          expr: R.attr.kind == "{kind}"
""")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "account.yaml"
    path.write_text('apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: "default"\n'
                    '  resource: "account"\n  rules:\n' + "".join(rules))
    return path


def cerbos_server(binary: Path, folder: Path, http: int, grpc: int) -> subprocess.Popen:
    """`cerbos server` on loopback with the generated policy and its file audit log on."""
    config = folder / "cerbos.yaml"
    config.write_text(CONFIG.format(http=http, grpc=grpc, policies=folder / "policies", audit=folder / "audit.log"))
    log = (folder / "server.log").open("ab")
    process = subprocess.Popen([str(binary), "server", f"--config={config}", "--log-level=error"],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/_cerbos/health", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"Cerbos did not start: {(folder / 'server.log').read_text()[-2000:]}")


def check_body(checks: list[dict]) -> dict:
    """A Cerbos CheckResources request: one principal (the first check's user) and one resource
    per check. Batches are built from one user's checks (see checks_of_demo's order)."""
    first = checks[0]
    return {"requestId": "bench",
            "principal": {"id": first["user"], "roles": [first["role"]], "attr": {}},
            "resources": [{"actions": [c["action"]],
                           "resource": {"kind": "account", "id": c["account"], "attr": {"kind": c["kind"]}}}
                          for c in checks]}


def checks_of_demo(database_url: str) -> list[dict]:
    """Every demo user on every demo account for every known action, with the group our policy gives
    them there (the role Cerbos is told) and the account's kind. Grouped by user."""
    demo = tomllib.loads((ROOT / "authz_service" / "data" / "demo.toml").read_text())
    accounts = [*demo["partners"], *demo["customers"]]
    users = [u for section in ("partners", "customers") for a in demo[section].values() for u in a["users"]]
    loaded = policy.load(ROOT / "policies")
    store.connect(database_url, migrate=False)
    checks = []
    with store.connection():
        for user in users:
            for account in accounts:
                got = gather(user, account)
                for action in loaded.vocab.actions:
                    verdict = loaded.decide(got.facts, action)
                    checks.append({"user": user, "action": action, "account": account,
                                   "role": verdict.group or NOBODY, "kind": got.facts.kind})
    store.close()
    return checks
