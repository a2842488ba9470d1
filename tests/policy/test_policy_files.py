"""Policy files are checked at start and by `authz policy check|test|matrix` (R9.2-R9.4)."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from authz_service import policy
from authz_service.app import create_app
from authz_service.cli import main
from authz_service.decide.checks import run_report
from authz_service.policy import PolicyError

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture
def scratch(tmp_path) -> Path:
    """A copy of policies/ to break."""
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def problems(directory: Path) -> list[tuple[str, int, str]]:
    with pytest.raises(PolicyError) as caught:
        policy.load(directory)
    return caught.value.problems


def test_the_committed_policy_passes_check_and_tables():
    """R9.2, R9.3: the repository's own policy loads and its tables all pass."""
    assert run_report(POLICIES).failures == []


def test_changing_one_cell_fails_the_tables(scratch):
    """R9.3: take `edit` away from support's ports and the R3 rows catch it."""
    edit(scratch / "services.csv", "p, support, *, port: view edit enable", "p, support, *, port: view enable")
    failures = run_report(scratch).failures
    assert any("ike@initech.example port.edit on initech: expected allow, got deny" in f for f in failures)
    result = CliRunner().invoke(main, ["policy", "test", "--dir", str(scratch)])
    assert result.exit_code == 1


def test_an_extra_allow_fails_as_unlisted(scratch):
    """R9.3: an allow that no table row lists fails: anything unlisted must deny."""
    (scratch / "invariants.toml").unlink()  # R3's invariant would refuse this policy before its tables run
    edit(scratch / "services.csv", "p, read_only, *, port: view, allow", "p, read_only, *, port: view delete, allow")
    failures = run_report(scratch).failures
    assert any("iris@initech.example port.delete on initech" in f for f in failures)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("services.csv", "p, support, *, port: view edit", "p, suport, *, port: view edit", "unknown group or condition 'suport'"),
        ("services.csv", "p, support, *, lag: view edit", "p, support, *, lag: view fly", "unknown action 'lag.fly'"),
        ("account.csv", "p, admin, *, user: manage, allow", "p, admin, *, user: manage, permit", "unknown effect 'permit'"),
        ("partner.csv", "p, admin, partner, grant", "p, admin, reseller, grant", "unknown account kind 'reseller'"),
        ("scoping.csv", "g, owner/admin/*/*, admin", "g, owner/boss/*/*, admin", "unknown group 'boss'"),
        ("scoping.csv", "g, owner/admin/*/*, admin", "g, owner/admin/*, admin", "4 parts"),
        ("account.csv", "p, admin, *, contact: manage, allow", "x, admin, *, contact: manage, allow", "starts with p or g"),
        ("account.csv", "p, admin, *, contact: manage, allow", "p, admin, contact: manage, allow", "4 fields"),
    ],
)
def test_a_bad_rule_is_refused_with_its_file_and_line(scratch, file, old, new, message):
    """R9.2: a syntax error, an unknown group or action stops the load, naming file and line."""
    edit(scratch / file, old, new)
    found = problems(scratch)
    assert (f"policies/{file}", line_of(scratch / file, new), ) in [(f, n) for f, n, _ in found]
    assert any(message in text for _, _, text in found), found


def test_an_action_no_test_covers_is_refused(scratch):
    """R9.2: a new action without a test row stops the load."""
    edit(scratch / "vocabulary.toml", 'history = ["view"]', 'history = ["view", "export"]')
    assert ("policies/tests", 0, "no test row covers history.export") in problems(scratch)


def test_two_groups_for_one_user_is_refused(scratch):
    """R3: a user holds exactly one group in each account; overlapping scoping rules stop the load."""
    with (scratch / "scoping.csv").open("a") as out:
        out.write("g, owner/admin/*/*, support\n")
    assert any("one group only" in text for _, _, text in problems(scratch))


def test_a_broken_model_is_refused(scratch):
    """R9.2: a model that casbin cannot read stops the load, naming model.conf."""
    edit(scratch / "model.conf", "m = g(r.who, p.sub)", "m = g(r.who, p.sub) &&& (")
    assert any(f == "policies/model.conf" for f, _, _ in problems(scratch))


def test_a_bad_test_table_is_refused(scratch):
    """R9.3: a decision table naming an unknown action is refused with its line."""
    table = scratch / "tests" / "r4_scoping.csv"
    with table.open("a") as out:
        out.write("ada@acme.example,port.fly,initech,allow,admin\n")
    found = problems(scratch)
    assert ("policies/tests/r4_scoping.csv", len(table.read_text().splitlines()),
            "unknown action 'port.fly'") in found


def test_the_service_refuses_to_start_on_a_bad_policy(scratch, tmp_path):
    """R9.2: create_app raises with the file and line; nothing is served."""
    edit(scratch / "services.csv", "p, support, *, port: view edit", "p, suport, *, port: view edit")
    with pytest.raises(PolicyError, match=r"policies/services\.csv:\d+: unknown group"):
        create_app({"database_url": f"sqlite:///{tmp_path}/x.db", "policy_dir": str(scratch)})


def test_check_command_prints_file_and_line(scratch):
    """R9.2: `authz policy check` exits 1 and prints file:line: message."""
    edit(scratch / "services.csv", "p, support, *, port: view edit", "p, suport, *, port: view edit")
    result = CliRunner().invoke(main, ["policy", "check", "--dir", str(scratch)])
    assert result.exit_code == 1
    assert f"policies/services.csv:{line_of(scratch / 'services.csv', 'suport')}: unknown group" in result.output


def test_matrix_is_generated_and_checked(scratch, tmp_path):
    """R9.4: the committed matrix matches the policy; after a change, --check fails."""
    out = tmp_path / "permissions.md"
    runner = CliRunner()
    assert runner.invoke(main, ["policy", "matrix", "--dir", str(scratch), "--out", str(out)]).exit_code == 0
    assert "| `port.edit` | yes | yes | - | yes |" in out.read_text()
    assert runner.invoke(main, ["policy", "matrix", "--dir", str(scratch), "--out", str(out), "--check"]).exit_code == 0
    edit(scratch / "services.csv", "p, support, *, port: view edit enable", "p, support, *, port: view enable")
    result = runner.invoke(main, ["policy", "matrix", "--dir", str(scratch), "--out", str(out), "--check"])
    assert result.exit_code == 1


def test_committed_matrix_is_current():
    """R9.4: docs/permissions.md is what the policy generates now."""
    result = CliRunner().invoke(main, ["policy", "matrix", "--dir", str(POLICIES), "--check",
                                       "--out", str(POLICIES.parent / "docs" / "permissions.md")])
    assert result.exit_code == 0, result.output


def test_field_visibility_comes_from_the_policy(scratch):
    """R5.8: support sees no figure, read_only sees them all; change fields.toml and it follows."""
    loaded = policy.load(scratch)
    support = policy.Facts("customer", "owner", "regular", "support", "none")
    reader = policy.Facts("customer", "owner", "regular", "read_only", "none")
    assert loaded.visible_fields("customers_page", support) == frozenset()
    assert "mrr_cents" in loaded.visible_fields("customers_page", reader)
    edit(scratch / "fields.toml", 'ports = "account.view_summary"', 'ports = "account.view"')
    assert policy.load(scratch).visible_fields("customers_page", support) == frozenset({"ports"})


def test_a_field_naming_an_unknown_action_is_refused(scratch):
    """R9.2: fields.toml is checked like the rules, with its line."""
    edit(scratch / "fields.toml", 'vcs = "account.view_summary"', 'vcs = "account.peek"')
    found = problems(scratch)
    assert ("policies/fields.toml", line_of(scratch / "fields.toml", "account.peek"),
            "unknown action 'account.peek' for customers_page.vcs") in found
