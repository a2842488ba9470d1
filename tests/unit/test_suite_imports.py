"""The test suites share helpers through tests/support/ and conftest fixtures, never by importing
another test module or a conftest (docs/decisions/025-tests.md), read with ast."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _importers():
    """(path, module name) of every Python file under tests/ and bench/."""
    for folder in ("tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported(tree: ast.AST, module: str):
    """(dotted name, line) of everything a module imports, relative imports resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def is_test_module(dotted: str) -> bool:
    """A test module or a conftest of the suite: tests.<...>.test_<name> or tests.<...>.conftest."""
    parts = dotted.split(".")
    if parts[0] != "tests":
        return False
    return any(part.startswith("test_") or part == "conftest" for part in parts[1:])


def test_no_module_imports_a_test_module_or_a_conftest():
    """Shared helpers live in tests/support/; a test module imports no other test module."""
    found = []
    for path, module in _importers():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for name, line in _imported(tree, module):
            if is_test_module(name):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not found, "\n".join(found)


def test_the_check_sees_each_form_of_import():
    """Plain, from-import of a module, from-import of a name, relative: all are seen."""
    tree = ast.parse("import tests.api.test_a\nfrom tests.api import test_b\n"
                     "from tests.api.test_c import helper\nfrom .test_d import x\n"
                     "from tests.browser.conftest import shot\nfrom tests.support.auth import bearer\n")
    names = [name for name, _ in _imported(tree, "tests.api.test_e")]
    assert [is_test_module(n) for n in names] == [True, True, True, True, True, False]
