"""Policy CI for rule authors: hooks, JUnit reports, diffs, and a new group with no Python change."""

import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AUTHZ = str(Path(sys.executable).with_name("authz"))

# What read_only may do in a partner account, which sales also may (R3 table), plus quotes.
SALES_ALLOWS = ["port.view", "lag.view", "cross_connect.view", "cloud_connection.view",
                "cloud_router.view", "point_to_point.view", "virtual_circuit.view",
                "connection_request.view", "document.view", "history.view", "invoice.view",
                "invoice.download", "billing.view", "account.view", "account.view_summary",
                "activity.view", "customer.list", "quote.create", "quote.manage"]

SALES_RULES = """# A fifth group for the partner portal only: it sees what read_only sees there, and quotes.
p, sales, partner, port: view, allow
p, sales, partner, lag: view, allow
p, sales, partner, cross_connect: view, allow
p, sales, partner, cloud_connection: view, allow
p, sales, partner, cloud_router: view, allow
p, sales, partner, point_to_point: view, allow
p, sales, partner, virtual_circuit: view, allow
p, sales, partner, connection_request: view, allow
p, sales, partner, document: view, allow
p, sales, partner, history: view, allow
p, sales, partner, invoice: view download, allow
p, sales, partner, billing: view, allow
p, sales, partner, account: view view_summary, allow
p, sales, partner, activity: view, allow
p, sales, partner, customer: list, allow
p, sales, partner, quote: create manage, allow
"""


def authz(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([AUTHZ, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the policy, the fixtures and the matrix, as a rule author's checkout."""
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    (tmp_path / "fixtures").mkdir()
    shutil.copy(ROOT / "authz_service" / "data" / "demo.toml", tmp_path / "fixtures" / "demo.toml")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "permissions.md", tmp_path / "docs" / "permissions.md")
    return tmp_path


def add_sales_group(project: Path) -> None:
    """Only data changes: vocabulary, rules, scoping, a fixture user and decision rows."""
    vocab = project / "policies" / "vocabulary.toml"
    text = vocab.read_text().replace('"read_only", "support"]', '"read_only", "support", "sales"]')
    grant = next(line for line in text.splitlines() if line.startswith("grant = "))  # whatever grant's verbs are
    vocab.write_text(text.replace(grant, grant + '\nquote = ["create", "manage"]'))
    (project / "policies" / "sales.csv").write_text(SALES_RULES)
    with (project / "policies" / "scoping.csv").open("a") as out:
        out.write("\n# sales acts in its home account only; it is never linked to customers\n"
                  "g, home/sales/*/*, sales\n")
    fixture = project / "fixtures" / "demo.toml"
    fixture.write_text(fixture.read_text().replace(
        '"lee@acme.example" = "regular"', '"sid@acme.example" = "sales"\n"lee@acme.example" = "regular"'))
    rows = ["user,action,account,expect,group"]
    rows += [f"sid@acme.example,{action},acme,allow,sales" for action in SALES_ALLOWS]
    rows += ["sid@acme.example,*,initech,deny,-", "ada@acme.example,quote.create,acme,deny,admin"]
    (project / "policies" / "tests" / "sales.csv").write_text("\n".join(rows) + "\n")


def test_a_fifth_group_needs_no_python_change(project):
    """R9: add `sales` by data alone; check, test and matrix pass; diff shows exactly its cells."""
    shutil.copytree(project / "policies", project / "old-policies")
    add_sales_group(project)
    fixtures = str(project / "fixtures" / "demo.toml")
    assert authz("policy", "check", "--dir", "policies", cwd=project).returncode == 0
    tested = authz("policy", "test", "--dir", "policies", "--fixtures", fixtures, cwd=project)
    assert tested.returncode == 0, tested.stderr
    assert authz("policy", "matrix", "--dir", "policies", cwd=project).returncode == 0
    matrix = (project / "docs" / "permissions.md").read_text()
    assert "| action | admin | regular | read_only | support | sales |" in matrix
    assert "| `quote.create` | - | - | - | - | yes |" in matrix
    changed = authz("policy", "diff", "old-policies", "policies", cwd=project).stdout.splitlines()
    cells = {tuple(line.split()[:3]) for line in changed if "->" in line}
    assert cells == {("partner", "sales", action) for action in SALES_ALLOWS}
    assert all(line.endswith("deny -> allow") for line in changed if "->" in line)


def test_junit_report_names_each_failing_row(project, tmp_path):
    """A CI system sees each failing row: one testcase per row, the broken one failed."""
    rules = project / "policies" / "account.csv"  # read_only loses downloads (no invariant forbids it)
    rules.write_text(rules.read_text().replace("p, read_only, *, invoice: view download, allow",
                                               "p, read_only, *, invoice: view, allow"))
    report = tmp_path / "policy.xml"
    result = authz("policy", "test", "--dir", "policies", "--junit", str(report), cwd=project)
    assert result.returncode == 1
    suite = ET.parse(report).getroot()
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert int(suite.get("tests")) > 500 and failed
    assert all("iris@initech.example" in name or "rita@acme.example" in name for name in failed), failed


def hook_entries() -> list[str]:
    """The `entry` commands of .pre-commit-hooks.yaml."""
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    return re.findall(r"^\s+entry:\s*(.+)$", text, flags=re.M)


def run_hooks(project: Path) -> list[int]:
    """Each hook's entry, run as pre-commit would, in the project's root."""
    codes = []
    for entry in hook_entries():
        args = shlex.split(entry)
        assert args[0] == "authz"
        codes.append(authz(*args[1:], cwd=project).returncode)
    return codes


def test_hooks_pass_a_sample_change_and_fail_a_broken_one(project):
    """The pre-commit hooks accept a consistent change and refuse a broken rule file."""
    assert len(hook_entries()) == 3
    rules = project / "policies" / "services.csv"
    rules.write_text(rules.read_text().replace("# R3 port\n", "# R3 port: a comment-only change\n"))
    authz("policy", "matrix", "--dir", "policies", cwd=project)  # regenerate, as the author would
    assert run_hooks(project) == [0, 0, 0]
    rules.write_text(rules.read_text().replace("p, support, *, port:", "p, suport, *, port:"))
    assert all(code != 0 for code in run_hooks(project))


def test_diff_shows_a_scoping_change(project):
    """R4: changing which group a link gives appears as one scoping cell, no permission cell."""
    shutil.copytree(project / "policies", project / "old-policies")
    scoping = project / "policies" / "scoping.csv"
    scoping.write_text(scoping.read_text().replace("g, owner/support/regular/*, regular",
                                                   "g, owner/support/regular/*, read_only"))
    changed = authz("policy", "diff", "old-policies", "policies", cwd=project).stdout.splitlines()
    assert [line.split() for line in changed if "->" in line] == [
        ["scoping", "home", "support", "link", "regular", "holds", "regular", "->", "read_only"]]
