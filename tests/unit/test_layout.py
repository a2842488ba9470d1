"""The layout's rules (docs/decisions/022-layout.md), read from the package's imports with ast.

Each third-party framework lives in one sub-package, the arrows between the subsystems point
one way, and no module imports a same-named module of another layer under an alias.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "authz_service"
SUBSYSTEMS = {"api", "cli", "decide", "log", "mail", "policy", "portal", "serving", "store"}
SHARED = {"config", "cursors", "give_way", "metrics", "private_files", "secret_file", "this_process", "usernames"}

# third-party top-level name -> the only places (sub-packages or modules) that may import it
FRAMEWORKS = {
    "peewee": {"store"}, "playhouse": {"store"},
    "casbin": {"policy"},
    "flask": {"api", "app"}, "werkzeug": {"api"}, "flask_smorest": {"api"},
    "marshmallow": {"api"}, "webargs": {"api"},
    "gunicorn": {"serving"}, "granian": {"serving"},
    "click": {"cli"},
}
EXEMPT: set[tuple[str, str]] = set()  # (module, framework) pairs allowed outside their folder: none

# subsystem -> the parts of the package it must not import
FORBIDDEN = {
    "store": SUBSYSTEMS - {"store"} | {"app", "config", "cursors", "metrics", "secret_file"},
    "policy": SUBSYSTEMS - {"policy"} | {"app"},
    "decide": {"api", "app", "cli", "mail", "portal", "serving"},
    "log": {"api", "app", "cli", "decide", "mail", "portal", "serving"},
    "mail": SUBSYSTEMS - {"mail", "store"} | {"app"},
    "portal": {"api", "app", "cli", "serving"},
    "api": {"app", "cli", "serving"},
    "serving": {"cli"},
    **{name: (SUBSYSTEMS | {"app"}) - {"store"} for name in SHARED},
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("").parts
        yield rel, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(tree):
    """(imported dotted name, alias or None, line) for every import, also those inside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, alias.asname, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield f"{node.module}.{alias.name}", alias.asname, node.lineno


def _part(rel) -> str:
    """The sub-package (or top-level module) a module belongs to."""
    return rel[0]


def _target(dotted: str) -> tuple[str, ...] | None:
    """The package-relative parts of an authz_service import, cut to the module it names."""
    bits = dotted.split(".")
    if bits[0] != "authz_service" or len(bits) < 2:
        return None
    parts = bits[1:]
    while parts and not ((PACKAGE.joinpath(*parts).with_suffix(".py")).is_file()
                         or (PACKAGE.joinpath(*parts) / "__init__.py").is_file()):
        parts = parts[:-1]
    return tuple(parts) or None


def test_each_framework_is_imported_in_one_place_only():
    wrong = []
    for rel, tree in _modules():
        for dotted, _, line in _imports(tree):
            top = dotted.split(".")[0]
            if top in FRAMEWORKS and _part(rel) not in FRAMEWORKS[top] \
                    and ("/".join(rel), top) not in EXEMPT:
                wrong.append(f"{'/'.join(rel)}.py:{line} imports {top}")
    assert wrong == []


def test_arrows_between_subsystems_point_one_way():
    wrong = []
    for rel, tree in _modules():
        banned = FORBIDDEN.get(_part(rel), set())
        for dotted, _, line in _imports(tree):
            target = _target(dotted)
            if target and target[0] in banned:
                wrong.append(f"{'/'.join(rel)}.py:{line} imports {'.'.join(target)}")
    assert wrong == []


def test_no_module_imports_a_same_named_module_of_another_layer_under_an_alias():
    wrong = []
    for rel, tree in _modules():
        for dotted, alias, line in _imports(tree):
            target = _target(dotted)
            if not target or alias is None or target[:-1] == rel[:-1]:
                continue
            if target[-1] == rel[-1] or alias in SUBSYSTEMS:
                wrong.append(f"{'/'.join(rel)}.py:{line} imports {'.'.join(target)} as {alias}")
    assert wrong == []


@pytest.mark.parametrize("name", sorted(SUBSYSTEMS))
def test_every_subsystem_is_a_package_seen_by_ls(name):
    assert (PACKAGE / name / "__init__.py").is_file()
