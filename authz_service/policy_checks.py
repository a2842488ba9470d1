"""Running the decision tables of policies/tests/ against the named fixtures (R9.3)."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from authz_service import fixtures, policy, store
from authz_service.facts import gather
from authz_service.policy import NONE, Facts, tables
from authz_service.store import directory


def run_tables(policy_dir: Path | str, fixture_path: Path | str = fixtures.DEFAULT) -> list[str]:
    """Load the policy and the fixtures into a scratch database; return every failing row."""
    return run_report(policy_dir, fixture_path).failures


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
        return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True)


def run_report(policy_dir: Path | str, fixture_path: Path | str = fixtures.DEFAULT) -> Report:
    """Load the policy and the fixtures into a scratch database; check every row."""
    loaded = policy.load(policy_dir)
    rows = tables.read(Path(policy_dir), loaded.vocab)
    store.connect("sqlite:///:memory:")
    fixtures.load(fixture_path)

    def decide(user: str, action: str, account: str):
        verdict = loaded.decide(gather(user, account).facts, action)
        return verdict.allowed, verdict.group

    def decide_as(group: str, action: str, account: str) -> bool:
        found = directory.get_account(account)
        kind = found["kind"] if found else NONE
        return loaded.decide(Facts(kind, "home", group, NONE, "none"), action).allowed

    try:
        return Report(tables.run_cases(rows, loaded.vocab, decide, decide_as))
    finally:
        store.close()
