"""`authz policy compare|lint`: what a policy change does, for reviewers (R9.5; impact: cli/policy_impact.py).

A policy is named by a folder or by a git revision (its `policies/` is read with `git show`
into a temporary folder).
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from authz_service.cli.base import load_policy
from authz_service.policy import compare as comparing
from authz_service.policy import lint as linting

GIT_SECONDS = 60


def run_git(args: list[str], cwd: Path, fails: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_SECONDS,
                          check=False)
    if done.returncode != 0:
        raise click.ClickException(f"{fails} ({done.stderr.strip() or 'git exit ' + str(done.returncode)})")
    return done.stdout


def _inside(top: Path, path: str) -> Path:
    """`--path` as a folder of the repository at `top`; a path outside it is a usage error."""
    if not Path(path).is_absolute():
        return Path(path)
    try:
        return Path(path).resolve().relative_to(top.resolve())
    except ValueError:
        raise click.BadParameter(f"{path!r} is not inside the repository {str(top)!r}",
                                 param_hint="--path") from None


def materialize(spec: str, path: str, into: Path) -> Path:
    """A folder holding the policy `spec` names: the folder itself, or `path` at git revision `spec`."""
    if Path(spec).is_dir():
        return Path(spec)
    if spec.startswith("-"):
        raise click.ClickException(f"{spec!r} is neither a folder nor a git revision")
    unknown = f"{spec!r} is neither a folder nor a git revision"
    top = Path(run_git(["rev-parse", "--show-toplevel"], Path.cwd(), unknown).strip())
    commit = run_git(["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"], top, unknown).strip()
    inside = _inside(top, path)
    listing = run_git(["ls-tree", "-r", "--name-only", "-z", commit, "--", f"{inside}/"], top, unknown)
    names = [n for n in listing.split("\0") if n]
    if not names:
        raise click.ClickException(f"{spec} has no {inside}/")
    folder = into / spec.replace("/", "_") / inside.name
    for name in names:
        blob = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=top, capture_output=True,
                              timeout=GIT_SECONDS, check=True).stdout
        target = folder / Path(name).relative_to(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blob)
    return folder


def path_option(fn):
    return click.option("--path", "policy_path", default="policies", show_default=True,
                        help="where the policy lives in the repository, for git revisions")(fn)


@click.command("compare")
@click.argument("specs", nargs=-1, required=True)
@path_option
@click.option("--json", "as_json", is_flag=True, help="the verdict and every changed cell as JSON")
def compare(specs, policy_path, as_json):
    """Compare policy OLD (default HEAD) with NEW: equivalent, more or less permissive, or
    incomparable, and the changed cells by account kind, group and action (R9.7).

    OLD and NEW are folders or git revisions: `authz policy compare main HEAD`,
    `authz policy compare policies` (the working copy against HEAD)."""
    if len(specs) > 2:
        raise click.UsageError("at most two policies: [OLD] NEW")
    old_spec, new_spec = specs if len(specs) == 2 else ("HEAD", specs[0])
    with tempfile.TemporaryDirectory(prefix="authz-compare-") as tmp:
        old = load_policy(materialize(old_spec, policy_path, Path(tmp)))
        new = load_policy(materialize(new_spec, policy_path, Path(tmp)))
        result = comparing.compare(old, new)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=1))
    else:
        for line in result.lines():
            click.echo(line)


def report_lint(loaded) -> int:
    """Print each finding as file:line: message; the number found."""
    findings = linting.lint(loaded)
    for finding in findings:
        click.echo(finding.line())
    return len(findings)


@click.command("lint")
@click.option("--dir", "policy_dir", default=None, help="policy directory (default AUTHZ_POLICY_DIR or policies/)")
def lint(policy_dir):
    """Rules that never match, allows made redundant or shadowed by others, denies that never
    decide anything; each with its file:line. Exit 1 when any is found."""
    found = report_lint(load_policy(policy_dir))
    click.echo(f"{found} finding(s)")
    sys.exit(1 if found else 0)
