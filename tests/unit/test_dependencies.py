"""pyproject's dependencies are exactly what the package imports, read from its imports with ast.

An import of a package that is only there because another dependency pulls it in breaks on
that dependency's next release (the wheel and the Docker image install only what
pyproject declares); a declared package nothing imports is dead weight in the image.
"""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "authz_service"

# declared distributions no module imports by name, and what loads them
LOADED_OTHERWISE = {
    "gunicorn-h1c": "gunicorn's C request parser, which gunicorn loads for http_parser='fast' "
                    "(serving/serve.py, docs/decisions/009-http-parser.md)",
}
# first-party packages of this repository the service may import where they are installed,
# never as a dependency of its wheel or image, and why
SIBLINGS = {
    "authz_client": "clients/python: `authz log check-export` runs the client's export checker, the one "
                    "customers run (docs/decisions/034-log-export-and-stream.md), and says how to install "
                    "it when it is absent",
}


def canonical(name: str) -> str:
    """A distribution's name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    """The distributions pyproject.toml's [project] dependencies name (extras and pins dropped)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonical(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in project["dependencies"]}


def imported() -> dict[str, set[str]]:
    """Top-level third-party module -> the package's files importing it (also inside functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top != "authz_service" and top not in SIBLINGS:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def distributions(module: str) -> set[str]:
    """The installed distributions that provide a top-level module (empty when none does)."""
    return {canonical(dist) for dist in packages_distributions().get(module, [])}


def test_every_third_party_import_is_a_declared_dependency():
    wanted = declared()
    undeclared = {module: sorted(files) for module, files in imported().items()
                  if not distributions(module) & wanted}
    assert not undeclared, f"imported but not in pyproject's dependencies: {undeclared}"


def test_every_declared_dependency_is_imported_or_says_what_loads_it():
    used = {dist for module in imported() for dist in distributions(module)}
    unused = declared() - used - set(LOADED_OTHERWISE)
    assert not unused, f"declared in pyproject but never imported by authz_service: {sorted(unused)}"
    assert set(LOADED_OTHERWISE) <= declared(), "LOADED_OTHERWISE names a package no longer declared"


def test_an_import_is_matched_to_its_distribution_not_its_module_name():
    """The mapping the checks rely on: import names differ from distribution names."""
    assert distributions("casbin") == {"pycasbin"}
    assert distributions("playhouse") == {"peewee"}
    assert distributions("flask") == {"flask"}
    assert distributions("no_such_module_here") == set()
