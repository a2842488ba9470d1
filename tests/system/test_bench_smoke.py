"""The benchmarks start on a fresh checkout: no bench module hides another module, each one
has the smoke form CI runs (`--quick`), `make bench` and `make bench-quick` run every one,
and the docs name only benches that exist. (`make bench-quick` itself runs them; this file is fast.)"""

import importlib.machinery
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
HELPERS = {"bare_app", "peers_cerbos"}  # parts of bench/serve_throughput.py and bench/peers.py, not benchmarks
MODULES = sorted(p.stem for p in BENCH.glob("*.py"))
BENCHES = [m for m in MODULES if m not in HELPERS]


@pytest.mark.parametrize("name", MODULES)
def test_no_bench_module_shadows_another_module(name):
    """`python bench/X.py` puts bench/ first on sys.path: a bench/http.py there hid the
    standard library's `http`, and werkzeug's `import http.server` failed in every bench."""
    assert name not in sys.stdlib_module_names, f"bench/{name}.py hides the standard library's {name}"
    elsewhere = [p for p in sys.path if p and Path(p).resolve() != BENCH]
    found = importlib.machinery.PathFinder.find_spec(name, elsewhere)
    assert found is None, f"bench/{name}.py hides the installed module at {found.origin}"


def test_make_runs_every_bench():
    """The Makefile's BENCHES (run by `make bench` and `make bench-quick`) lists each bench once."""
    listed = re.search(r"^BENCHES\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
    assert sorted(listed) == BENCHES


@pytest.mark.parametrize("name", BENCHES)
def test_bench_starts_and_has_a_quick_form(name):
    """Run as CI runs it (a script, from the repository root): it imports and offers --quick."""
    done = subprocess.run([sys.executable, f"bench/{name}.py", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout


def test_docs_name_only_benches_that_exist():
    """Every `bench/X.py` the docs, the Makefile, the package and the benches mention exists."""
    texts = [*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md"), ROOT / "Makefile",
             *(ROOT / "authz_service").rglob("*.py"), *BENCH.glob("*.py")]
    named = {(m, path.relative_to(ROOT).as_posix()) for path in texts
             for m in re.findall(r"bench/(\w+)\.py", path.read_text(encoding="utf-8"))}
    missing = sorted((f"bench/{m}.py", where) for m, where in named if m not in MODULES)
    assert not missing, f"named but absent: {missing}"
