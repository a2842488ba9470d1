"""`authz policy compare` is exact (R9.7): on generated pairs of policies its changed cells are the
possible cells where the two derived tables differ, and its verdict follows from them; a policy
compared with itself, or with a reformatted copy, is equivalent."""

import json
import random
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from authz_service.policy import NONE, Facts, PolicyError
from authz_service.policy.compare import EQUIVALENT, INCOMPARABLE, LESS, MORE, compare
from authz_service.policy.facts import is_possible
from tests.support.policy_scratch import POLICIES, RULE_FILES, build, lines_of, mutate, policy_files

ROOT = Path(__file__).resolve().parents[2]
BASE = {n: t for n, t in policy_files().items() if n != "invariants.toml"}  # random policies break them
def _cell(policy, key) -> tuple[bool, str]:
    verdict = policy.table.get(key)
    return (False, NONE) if verdict is None else (verdict.allowed, verdict.group or NONE)


def table_differences(old, new) -> set[tuple]:
    """The possible cells where the two derived tables differ (decision or group held)."""
    keys = {k for k in (*old.table, *new.table) if is_possible(Facts(*k[:5]))}
    return {k for k in keys if _cell(old, k) != _cell(new, k)}


def _build_or_skip(files):
    try:
        return build(files)
    except PolicyError:  # e.g. a who given two groups: refused, not a policy to compare
        assume(False)
        raise


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # each policy derives in ~1 s: no shrinking
@given(st.integers(0, 2**32), st.integers(0, 2**32), st.integers(1, 4), st.integers(0, 4))
def test_changed_cells_are_where_the_tables_differ(seed_old, seed_new, steps_old, steps_new):
    old = _build_or_skip(mutate(BASE, random.Random(seed_old), steps_old))
    new = _build_or_skip(mutate(BASE, random.Random(seed_new), steps_new))
    result = compare(old, new)
    got = {(*c.facts, c.action) for c in result.cells}
    assert got == table_differences(old, new)
    for c in result.cells:
        assert (c.was, c.held_was) == _cell(old, (*c.facts, c.action))
        assert (c.now, c.held_now) == _cell(new, (*c.facts, c.action))
    gained, lost = any(c.now and not c.was for c in result.cells), any(c.was and not c.now for c in result.cells)
    assert result.verdict == {(False, False): EQUIVALENT, (True, False): MORE, (False, True): LESS,
                              (True, True): INCOMPARABLE}[(gained, lost)]
    back = compare(new, old)
    assert len(back.cells) == len(result.cells)
    assert back.verdict == {MORE: LESS, LESS: MORE}.get(result.verdict, result.verdict)


def reformatted(files: dict[str, str]) -> dict[str, str]:
    """The same rules in another order, other spacing and new comments."""
    out = dict(files)
    for name in RULE_FILES + ["scoping.csv"]:
        lines = lines_of(files[name])
        random.Random(7).shuffle(lines)
        out[name] = "# reordered\n\n" + "\n".join(line.replace(", ", " ,  ") for line in lines) + "\n"
    return out


def test_a_policy_and_a_reformatted_copy_are_equivalent():
    shipped, copy = build(policy_files()), build({**reformatted(BASE), "invariants.toml": policy_files()["invariants.toml"]})
    assert shipped.version != copy.version
    for other in (shipped, copy):
        result = compare(shipped, other)
        assert result.verdict == EQUIVALENT and result.cells == []


def test_the_command_compares_folders_and_git_revisions(tmp_path):
    changed = tmp_path / "policies"
    changed.mkdir()
    for name, text in policy_files().items():
        (changed / name).parent.mkdir(exist_ok=True)
        (changed / name).write_text(text)
    account = changed / "account.csv"
    account.write_text(account.read_text().replace("p, read_only, *, invoice: view download, allow",
                                                   "p, read_only, *, invoice: view, allow"))
    authz = str(Path(sys.executable).with_name("authz"))
    done = subprocess.run([authz, "policy", "compare", "HEAD", str(changed), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["verdict"] == LESS and answer["gained"] == 0 and answer["lost"] > 0
    assert {(c["kind"], c["group"], c["action"], c["change"]) for c in answer["changes"]} == {
        (kind, "read_only", "invoice.download", "lost") for kind in ("partner", "customer")}
    same = subprocess.run([authz, "policy", "compare", "HEAD", str(POLICIES)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert same.returncode == 0 and ": equivalent" in same.stdout.splitlines()[0], same.stdout + same.stderr
    bad = subprocess.run([authz, "policy", "compare", "no-such-revision", str(POLICIES)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "neither a folder nor a git revision" in bad.stderr
