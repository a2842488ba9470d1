"""Running the decision tables of policies/tests/ against the named fixtures (R9.3).

`python -m authz_service.decide.checks` runs them on a snapshot read from stdin,
so a server checks a reload in a child process, away from its own database (R9.6).
"""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from authz_service import policy, store
from authz_service.policy import NONE, Policy, PolicyError, cells, tables
from authz_service.policy.snapshot import Snapshot
from authz_service.store import directory, fixtures

TRIAL_SECONDS = 60


@dataclass
class Report:
    """Every case of every table, for the console and for JUnit."""

    cases: list[tables.Case]

    @property
    def failures(self) -> list[str]:
        return [f for case in self.cases for f in case.failures]

    @property
    def checked(self) -> int:
        return len(self.cases)

    @property
    def failed(self) -> int:
        """Cases with at least one failure (a `*` row can fail for several actions)."""
        return sum(1 for case in self.cases if case.failures)

    @property
    def passed(self) -> int:
        return self.checked - self.failed

    def junit(self) -> str:
        """JUnit XML: one testcase per row, so a CI system shows each failing row."""
        suite = ET.Element("testsuite", name="policy", tests=str(len(self.cases)),
                           failures=str(sum(1 for c in self.cases if c.failures)))
        for case in self.cases:
            element = ET.SubElement(suite, "testcase", classname=case.where.split(":")[0],
                                    name=f"{case.where} {case.name}")
            if case.failures:
                failure = ET.SubElement(element, "failure", message=case.failures[0])
                failure.text = "\n".join(case.failures)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def run_report(source: Path | str | Policy,
               fixture_path: Traversable | Path | str = fixtures.DEFAULT) -> Report:
    """Load the policy (or take this one) and the fixtures into a scratch database; check every row."""
    # Here, not at the top: `authz` (cli/policy.py) imports this module in the server's master,
    # which must not import prometheus_client (gather imports metrics) before the workers'
    # metric folder is set.
    from authz_service.decide.gather import gather

    loaded = source if isinstance(source, Policy) else policy.load(source)
    rows = tables.read(loaded.snapshot, loaded.vocab)
    store.connect("sqlite:///:memory:", migrate=True)
    fixtures.load(fixture_path)

    def decide(user: str, action: str, account: str):
        verdict = loaded.decide(gather(user, account).facts, action)
        return verdict.allowed, verdict.group

    def decide_as(group: str, action: str, account: str) -> bool:
        found = directory.get_account(account)
        kind = found["kind"] if found else NONE
        return loaded.decide(cells.holding(kind, group), action).allowed

    try:
        return Report(tables.run_cases(rows, loaded.vocab, decide, decide_as))
    finally:
        store.close()


def trial(snap: Snapshot, timeout: float = TRIAL_SECONDS) -> list[str]:
    """Run the decision tables on exactly these bytes in a child process; the failures ([] when all pass)."""
    files = {name: data.decode("utf-8") for name, data in snap.files.items()}
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    try:
        done = subprocess.run([sys.executable, "-m", "authz_service.decide.checks"], env=env,
                              input=json.dumps({"root": str(snap.root), "files": files}),
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return [f"the decision tables did not finish within {timeout:g} s"]
    try:
        return json.loads(done.stdout)["failures"]
    except (ValueError, KeyError, TypeError):
        return [f"the decision tables could not run: {done.stderr.strip()[-500:] or done.returncode}"]


def _child() -> None:
    """Read {"root", "files"} from stdin, print {"failures": [...]} (the body of `trial`)."""
    given = json.load(sys.stdin)
    snap = Snapshot(Path(given["root"]), {n: t.encode("utf-8") for n, t in given["files"].items()}, ())
    try:
        failures = run_report(Policy(snap)).failures
    except PolicyError as exc:
        failures = [str(exc)]
    json.dump({"failures": failures}, sys.stdout)


if __name__ == "__main__":
    _child()
