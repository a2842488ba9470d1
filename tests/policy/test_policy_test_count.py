"""`authz policy test` counts cases, not failure lines: never a negative "passed" (issue class 10)."""

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from authz_service.cli import main

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_a_row_failing_for_many_actions_counts_once(tmp_path):
    """One scoping line making unlinked partner users admin fails `*` rows for every action;
    each such row is one failed case, and passed + failed is the number of cases."""
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    (policies / "invariants.toml").unlink()  # R4.2's invariant would refuse this policy before its tables run
    with open(policies / "scoping.csv", "a") as rules:
        rules.write("g, owner/*/-/*, admin\n")
    result = CliRunner().invoke(main, ["policy", "test", "--dir", str(policies)])
    assert result.exit_code == 1
    passed, failed = map(int, re.search(r"(-?\d+) passed, (\d+) failed", result.output).groups())
    clean = CliRunner().invoke(main, ["policy", "test", "--dir", str(POLICIES)])
    total = int(re.search(r"(\d+) passed, 0 failed", clean.output).group(1))
    failure_lines = [line for line in result.output.splitlines() if "expected" in line or "unlisted" in line]
    assert len(failure_lines) > total  # more failure lines than cases: the old count went negative
    assert 0 < failed < total and passed == total - failed
