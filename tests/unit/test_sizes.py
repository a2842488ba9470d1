"""Small modules and functions (issue 22, docs/decisions/022-layout.md, "Sizes"), read with ast.

Every module of the package and of the client package is at most 200 lines, or its docstring
holds a line "Longer than 200 lines: <why>"; every function (and method) is at most 40 lines,
or its docstring holds "Longer than 40 lines: <why>".
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = [ROOT / "authz_service", ROOT / "clients" / "python" / "src"]
MODULE_LINES, FUNCTION_LINES = 200, 40


def _reason(node, limit: int) -> bool:
    """True when the node's docstring has a line "Longer than LIMIT lines: <some reason>"."""
    prefix = f"Longer than {limit} lines:"
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(prefix) and line.strip()[len(prefix):].strip()
               for line in doc.splitlines())


def _sources():
    for tree in TREES:
        for path in sorted(tree.rglob("*.py")):
            yield path.relative_to(ROOT), path.read_text(encoding="utf-8")


def test_there_are_modules_to_measure():
    assert len(list(_sources())) > 50


def test_modules_are_short_or_say_why():
    long = []
    for rel, text in _sources():
        lines = len(text.splitlines())
        if lines > MODULE_LINES and not _reason(ast.parse(text), MODULE_LINES):
            long.append(f"{rel}: {lines} lines")
    assert not long, "modules over 200 lines without a reason at the top: " + ", ".join(long)


def test_functions_are_short_or_say_why():
    long = []
    for rel, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # the def line to the last, decorators not counted
                if lines > FUNCTION_LINES and not _reason(node, FUNCTION_LINES):
                    long.append(f"{rel}:{node.lineno} {node.name}: {lines} lines")
    assert not long, "functions over 40 lines without a reason: " + ", ".join(long)


def test_a_reason_needs_words():
    tree = ast.parse('"""Title.\n\nLonger than 200 lines:\n"""')
    assert not _reason(tree, MODULE_LINES)
    assert _reason(ast.parse('"""Title.\n\nLonger than 200 lines: one table per class.\n"""'), MODULE_LINES)
