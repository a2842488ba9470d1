"""One enumeration of the policy's cells (docs/decisions/024-one-way-in.md): policy/cells.py yields
them; the matrix, the diff, the console's policy page and the decision tables' `as` rows read them
and build no facts of their own."""

import ast
from pathlib import Path

import pytest

from authz_service import policy
from authz_service.policy import NONE, Facts, cells, diff

PACKAGE = Path(__file__).resolve().parents[2] / "authz_service"
READERS = ["policy/matrix.py", "policy/diff.py", "api/console.py", "decide/checks.py"]


@pytest.fixture(scope="module")
def loaded():
    return policy.load(PACKAGE.parent / "policies")


def test_every_cell_once_in_order(loaded):
    vocab = loaded.vocab
    got = list(cells.cells(loaded))
    assert [(c.kind, c.action, c.group) for c in got] == [
        (k, a, g) for k in vocab.account_kinds for a in vocab.actions for g in vocab.groups]
    assert all(c.allowed == loaded.decide(Facts(c.kind, "home", c.group, NONE, "none"), c.action).allowed
               for c in got)
    scoping = list(cells.scoping_cells(loaded))
    assert [(c.home, c.link) for c in scoping] == [(h, link) for h in vocab.groups for link in (NONE, *vocab.groups)]


def test_the_grids_are_the_cells(loaded):
    grid = cells.grid(loaded)
    assert [kind for kind, _ in grid] == list(loaded.vocab.account_kinds)
    flat = [(kind, action, allowed) for kind, rows in grid for action, row in rows for allowed in row]
    assert flat == [(c.kind, c.action, c.allowed) for c in cells.cells(loaded)]
    assert [(home, len(row)) for home, row in cells.scoping_grid(loaded)] == [
        (g, len(loaded.vocab.groups) + 1) for g in loaded.vocab.groups]
    assert len(diff.permissions(loaded)) == len(flat) and diff.diff(loaded, loaded) == []


@pytest.mark.parametrize("module", READERS)
def test_readers_build_no_facts_of_their_own(module):
    tree = ast.parse((PACKAGE / module).read_text())
    built = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "Facts"]
    assert built == [], f"{module} builds Facts at lines {built}: use policy.cells"
