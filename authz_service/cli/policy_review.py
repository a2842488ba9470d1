"""`authz policy review [BASE]`: what a pull request does to the policy, in one block a reviewer
pastes into it (R9.4, R9.7; docs/decisions/033-decision-facts-and-replay.md): the policy at BASE
(a git revision, default `origin/main`, else `main`) against the working tree's, as the compare
verdict and changed cells, then the unified diff of the generated matrix (docs/permissions.md).
The working tree's policy is loaded as the service loads it, so a broken invariant or a failing
check stops the review with its file and line, as it would stop the service (R9.6).
"""

import difflib
import json
import tempfile
from pathlib import Path

import click

from authz_service.cli.base import load_policy
from authz_service.cli.policy_analysis import materialize, run_git
from authz_service.policy import compare as comparing
from authz_service.policy import lint as linting
from authz_service.policy import matrix

DEFAULT_BASES = ("origin/main", "main")


def _base(top: Path, given: str | None) -> str:
    """The revision to review against: the one given, else the first default that exists."""
    if given is not None:
        return given
    for name in DEFAULT_BASES:
        try:
            run_git(["rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"], top, "")
        except click.ClickException:
            continue
        return name
    raise click.ClickException(f"none of {', '.join(DEFAULT_BASES)} is a revision here; name BASE")


def review(old, new, base: str) -> list[str]:
    """The Markdown block: verdict, lint of the new policy, changed cells, matrix diff."""
    result = comparing.compare(old, new)
    findings = linting.lint(new)
    out = [f"### Policy review: {base} ({old.version}) -> working tree ({new.version})", "",
           f"Verdict: **{result.verdict}**; {len(result.flipped)} cell(s) change their decision, "
           f"{len(result.regrouped)} only the group held.",
           f"Working tree: {len(new.invariants)} invariant(s) proven, {len(findings)} lint finding(s).", "",
           "```", *result.lines(), *(f.line() for f in findings), "```", ""]
    before, after = matrix.render(old).splitlines(), matrix.render(new).splitlines()
    changed = list(difflib.unified_diff(before, after, f"{base}:docs/permissions.md",
                                        "working tree:docs/permissions.md", n=1, lineterm=""))
    out += ["Matrix diff:", "", "```diff", *changed, "```"] if changed else ["Matrix: unchanged."]
    return out


@click.command("review")
@click.argument("base", required=False)
@click.option("--path", "policy_path", default="policies", show_default=True,
              help="where the policy lives in the repository")
@click.option("--json", "as_json", is_flag=True, help="the compare verdict and cells, and the matrix diff, as JSON")
def review_command(base, policy_path, as_json):
    """The verdict, the changed cells and the matrix diff between BASE (default origin/main, else
    main) and the working tree, as Markdown to paste into a pull request (R9.7)."""
    top = Path(run_git(["rev-parse", "--show-toplevel"], Path.cwd(), "not inside a git repository").strip())
    base = _base(top, base)
    with tempfile.TemporaryDirectory(prefix="authz-review-") as tmp:
        old = load_policy(materialize(base, policy_path, Path(tmp)))
        new = load_policy(top / policy_path)
        if as_json:
            diff = list(difflib.unified_diff(matrix.render(old).splitlines(), matrix.render(new).splitlines(),
                                             lineterm=""))
            click.echo(json.dumps({"base": base, **comparing.compare(old, new).as_dict(), "matrix_diff": diff},
                                  indent=1))
            return
        for line in review(old, new, base):
            click.echo(line)
