"""`authz policy check|test|diff|matrix`: check, test and document the policy files (and
compare|lint, cli/policy_analysis.py; impact, cli/policy_impact.py; review, cli/policy_review.py)."""

import sys
from pathlib import Path

import click

from authz_service.cli import policy_analysis, policy_impact, policy_review
from authz_service.cli.base import current_settings, load_policy
from authz_service.decide.checks import run_report
from authz_service.policy import matrix
from authz_service.policy.diff import diff
from authz_service.store import fixtures

MATRIX_FILE = Path("docs/permissions.md")


@click.group(name="policy")
def policy_group():
    """Check, test and document the policy files."""


def _dir_option(fn):
    return click.option("--dir", "policy_dir", default=None,
                        help="policy directory (default AUTHZ_POLICY_DIR or policies/)")(fn)


@policy_group.command("check")
@_dir_option
def policy_check(policy_dir):
    """Syntax, known groups and actions, every action tested (R9.2), every invariant proven (R9.5),
    and nothing for `authz policy lint` to find."""
    loaded = load_policy(policy_dir)
    if policy_analysis.report_lint(loaded):
        click.echo(f"policy {loaded.version}: `authz policy lint` finds rules to fix", err=True)
        sys.exit(1)
    click.echo(f"policy {loaded.version}: {len(loaded.rules)} rules, "
               f"{len(loaded.vocab.actions)} actions, {len(loaded.table)} table cells, "
               f"{len(loaded.invariants)} invariants proven: ok")


@policy_group.command("test")
@_dir_option
@click.option("--fixtures", "fixture_path", default=str(fixtures.DEFAULT), show_default=True)
@click.option("--junit", "junit_path", default=None, help="also write a JUnit XML report here")
def policy_test(policy_dir, fixture_path, junit_path):
    """Run the decision tables under policies/tests/ (R9.3)."""
    report = run_report(load_policy(policy_dir or current_settings().policy_dir), fixture_path)
    for failure in report.failures:
        click.echo(failure, err=True)
    if junit_path:
        Path(junit_path).write_text(report.junit(), encoding="utf-8")
    click.echo(f"{report.passed} passed, {report.failed} failed")
    sys.exit(1 if report.failures else 0)


@policy_group.command("diff")
@click.argument("old_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("new_dir", type=click.Path(exists=True, file_okay=False))
def policy_diff(old_dir, new_dir):
    """Print the (kind, group, action) cells and scoping cells that change from OLD to NEW."""
    lines = diff(load_policy(old_dir), load_policy(new_dir))
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} cell(s) change")


@policy_group.command("matrix")
@_dir_option
@click.option("--out", default=str(MATRIX_FILE), show_default=True)
@click.option("--check", is_flag=True, help="fail if the committed file is out of date")
def policy_matrix(policy_dir, out, check):
    """Write the group x action matrix (R9.4)."""
    text = matrix.render(load_policy(policy_dir))
    path = Path(out)
    if check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            click.echo(f"{out} is out of date: run `authz policy matrix`", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


for _command in (policy_analysis.compare, policy_analysis.lint, policy_impact.impact,
                 policy_review.review_command):
    policy_group.add_command(_command)
