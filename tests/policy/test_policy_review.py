"""`authz policy review [BASE]`: the compare verdict, the changed cells and the matrix diff between a
base git revision and the working tree, in one block for a pull request (R9.4, R9.7), on a
scratch git repository with two revisions of policies/."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.policy_scratch import policy_files

AUTHZ = str(Path(sys.executable).with_name("authz"))
DOWNLOAD, VIEW_ONLY = "p, read_only, *, invoice: view download, allow", "p, read_only, *, invoice: view, allow"
GIT = ["git", "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.com", "-c", "commit.gpgsign=false"]


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = repo / "policies" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, timeout=60)


def _review(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run([AUTHZ, "policy", "review", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def repo(tmp_path) -> Path:
    """Two revisions on main: the shipped policy, then read_only losing invoice.download."""
    _git(tmp_path, "init", "-q", "-b", "main")
    _write(tmp_path, policy_files())
    _git(tmp_path, "add", "policies")
    _git(tmp_path, "commit", "-q", "-m", "shipped policy")
    files = policy_files()
    _write(tmp_path, {"account.csv": files["account.csv"].replace(DOWNLOAD, VIEW_ONLY)})
    _git(tmp_path, "commit", "-q", "-am", "read_only no longer downloads invoices")
    return tmp_path


def test_review_against_an_earlier_revision_shows_the_verdict_cells_and_matrix_diff(repo):
    done = _review(repo, "HEAD~1")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Verdict: **less permissive**" in text
    assert "read_only  invoice.download" in text and "lost" in text
    diff = text.split("```diff", 1)[1]
    assert any(line.startswith("-") and "download" in line for line in diff.splitlines()[2:])
    assert any(line.startswith("+") for line in diff.splitlines()[2:])
    answer = json.loads(_review(repo, "HEAD~1", "--json").stdout)
    assert answer["verdict"] == "less permissive" and answer["base"] == "HEAD~1"
    assert {(c["group"], c["action"], c["change"]) for c in answer["changes"]} == {
        ("read_only", "invoice.download", "lost")}
    assert answer["matrix_diff"]


def test_review_defaults_to_main_and_sees_uncommitted_changes(repo):
    """Against main (no origin/main here): the committed tip is equivalent; an edit in the working
    tree shows at once, before any commit."""
    same = _review(repo)
    assert same.returncode == 0, same.stderr
    assert "### Policy review: main" in same.stdout and "Verdict: **equivalent**" in same.stdout
    assert "Matrix: unchanged." in same.stdout
    account = repo / "policies" / "account.csv"
    account.write_text(account.read_text().replace(VIEW_ONLY, DOWNLOAD))
    back = _review(repo)
    assert "Verdict: **more permissive**" in back.stdout and "gained" in back.stdout


def test_a_working_tree_that_breaks_an_invariant_or_a_bad_base_is_refused(repo):
    """R9.6: the review loads the working tree as the service would: a broken invariant stops it,
    naming the invariant; an unknown BASE is a clear error."""
    account = repo / "policies" / "account.csv"
    account.write_text(account.read_text() + "p, support, *, invoice: view, allow\n")
    broken = _review(repo, "HEAD~1")
    assert broken.returncode == 1 and "invariant" in broken.stderr
    bad = _review(repo, "no-such-revision")
    assert bad.returncode != 0 and "neither a folder nor a git revision" in bad.stderr
