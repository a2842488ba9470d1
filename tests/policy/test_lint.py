"""`authz policy lint`: each kind of dead rule in a scratch policy is found with its file:line, the
shipped policy has none, and removing any rule it finds changes no decision and no group held."""

import subprocess
import sys
from pathlib import Path

import pytest

from authz_service.policy import lint
from authz_service.policy.compare import compare
from tests.support.policy_scratch import POLICIES, build, line_of, policy_files, replaced

FILES = policy_files()
ROOT = Path(__file__).resolve().parents[2]

# (file, line added, the start of the message lint gives it)
ADDED = [
    ("services.csv", "p, sales, *, port: view, allow", "never matches: nobody holds its subject"),
    ("scoping.csv", "g, home/-/*/*, admin", "never matches: no facts the service can gather"),
    ("scoping.csv", "g, owner/admin/admin/*, admin", "redundant: admin is given to every fact it matches by"),
    ("services.csv", "p, admin, *, port: view edit, allow", "redundant: everything it allows is allowed by"),
    ("services.csv", "p, session_elsewhere, *, history: view, allow", "shadowed by deny"),
    ("account.csv", "p, support, *, billing: view, deny", "never decides anything: no allow rule matches"),
    ("account.csv", "p, session_elsewhere, customer, port: view, deny", "never decides anything: where an allow"),
]


@pytest.fixture(scope="module")
def scratch():
    files = replaced(FILES, "vocabulary.toml", 'groups = ["admin", "regular", "read_only", "support"]',
                     'groups = ["admin", "regular", "read_only", "support", "sales"]')
    for name, line, _ in ADDED:
        files = {**files, name: files[name] + line + "\n"}
    del files["invariants.toml"]  # sales holds nothing at home, which home-group-at-home refuses
    return files, build(files)


def test_the_shipped_policy_is_clean():
    assert lint.lint(build(FILES)) == []


@pytest.mark.parametrize("added", ADDED, ids=[a[1] for a in ADDED])
def test_each_dead_rule_is_found_at_its_line(scratch, added):
    files, loaded = scratch
    name, line, message = added
    found = {f.rule.location: f.message for f in lint.lint(loaded)}
    where = line_of(files, name, line)
    assert where in found and found[where].startswith(message), found


def test_only_the_added_rules_are_found(scratch):
    files, loaded = scratch
    assert sorted(f.rule.location for f in lint.lint(loaded)) == sorted(line_of(files, n, t) for n, t, _ in ADDED)


def test_removing_a_rule_it_finds_changes_nothing(scratch):
    """The findings are sound: casbin's table, without the rule, decides and holds as before."""
    files, loaded = scratch
    for finding in lint.lint(loaded):
        name = finding.rule.file.removeprefix("policies/")
        lines = files[name].splitlines(keepends=True)
        del lines[finding.rule.line - 1]
        assert compare(loaded, build({**files, name: "".join(lines)})).cells == [], finding.line()


def test_the_command_names_file_and_line_and_fails(tmp_path):
    authz = str(Path(sys.executable).with_name("authz"))
    clean = subprocess.run([authz, "policy", "lint", "--dir", str(POLICIES)], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert clean.returncode == 0 and "0 finding(s)" in clean.stdout, clean.stdout + clean.stderr
    folder = tmp_path / "policies"
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text + ("p, admin, *, port: view, allow\n" if name == "services.csv" else ""))
    dirty = subprocess.run([authz, "policy", "lint", "--dir", str(folder)], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    where = line_of(FILES, "services.csv", "p, admin, *, port:").split(":")[0]
    assert dirty.returncode == 1 and dirty.stdout.startswith(f"{where}:"), dirty.stdout
    assert "redundant: everything it allows is allowed by policies/services.csv:" in dirty.stdout
