"""The wheel carries the package data (demo data, console templates), and `authz demo` runs from
the installed package, away from the checkout (docs/decisions/021)."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the sources: setuptools would reuse files left in ./build."""
    source, out = tmp_path_factory.mktemp("source") / "src", tmp_path_factory.mktemp("wheel")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "var", "*.egg-info", "__pycache__", ".*_cache", "tests"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q",
                            "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("authz_service-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_holds_the_demo_data_and_the_console_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "authz_service/data/demo.toml" in names
    templates = ROOT / "authz_service" / "templates"
    for page in templates.rglob("*.html"):
        assert f"authz_service/templates/{page.relative_to(templates).as_posix()}" in names


@pytest.mark.slow
def test_authz_demo_runs_from_the_installed_package_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "AUTHZ_POLICY_DIR": str(ROOT / "policies"),
           "AUTHZ_DATABASE_URL": f"sqlite:///{tmp_path}/authz.db"}
    code = ("import sys, authz_service; from authz_service.cli import main; "
            f"assert authz_service.__file__.startswith({str(site)!r}), authz_service.__file__; "
            "sys.argv = ['authz', 'demo', '--no-key']; main()")
    ran = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert f"demo data loaded from {site}" in ran.stdout
    assert "(8 new services, 3 new logins)" in ran.stdout
