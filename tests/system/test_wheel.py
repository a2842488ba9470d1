"""The image's install, without Docker: the files the Dockerfile copies build a wheel that carries
the package data (demo data, console templates); it installs in a fresh virtualenv with only
the dependencies it declares, at constraints.txt's pins, as the Dockerfile's `pip install -c
constraints.txt .` does; and from there, away from the checkout, every module imports,
`authz demo` loads the demo and `authz serve` (the image's CMD) answers its health check and a
decision (docs/decisions/021, docs/decisions/026-pool-and-workers.md).

pip fetches the dependencies from the machine's configured index or its cache, as the image
build does.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.server import free_port, post, wait_ready

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def dockerfile_copies() -> list[tuple[str, str]]:
    """(source in the checkout, destination under WORKDIR) of each of the Dockerfile's COPY lines."""
    pairs = []
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, dest = shlex.split(line)[1:]
            pairs += [(src, dest.rstrip("/") + "/" + Path(src).name if dest.endswith("/") else dest)
                      for src in sources]
    return pairs


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    """What the image's /app holds before its `pip install`: only what the Dockerfile copies."""
    app = tmp_path_factory.mktemp("image") / "app"
    for source, dest in dockerfile_copies():
        target = (app / dest).resolve()
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / source, target)
    return app


@pytest.fixture(scope="module")
def wheel(app_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(app_dir), "--no-deps", "-q",
                            "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("authz_service-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, app_dir, tmp_path_factory) -> Path:
    """A fresh virtualenv (no site-packages of ours) with the wheel and its declared dependencies."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "-q", "-c",
                                app_dir / "constraints.txt", wheel], capture_output=True, text=True,
                               timeout=900)
    assert installed.returncode == 0, installed.stderr
    return venv


@pytest.fixture
def elsewhere(tmp_path, app_dir, venv) -> tuple[Path, dict]:
    """A folder outside the checkout, and the image's environment (none of the test run's own)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not key.startswith("AUTHZ_")}
    env.update(PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", HOME=str(tmp_path),
               AUTHZ_DATABASE_URL=f"sqlite:///{tmp_path}/data/authz.db",
               AUTHZ_LOG_SPOOL_DIR=str(tmp_path / "data" / "spool"),
               AUTHZ_POLICY_DIR=str(app_dir / "policies"))
    (tmp_path / "data" / "spool").mkdir(parents=True)
    return tmp_path, env


def test_the_wheel_holds_the_demo_data_and_the_console_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "authz_service/data/demo.toml" in names
    templates = ROOT / "authz_service" / "templates"
    for page in templates.rglob("*.html"):
        assert f"authz_service/templates/{page.relative_to(templates).as_posix()}" in names


def test_every_module_imports_in_a_venv_with_only_the_declared_dependencies(venv, elsewhere):
    folder, env = elsewhere
    code = ("import importlib, pkgutil, authz_service as p; "
            "names = [m.name for m in pkgutil.walk_packages(p.__path__, 'authz_service.')]; "
            "[importlib.import_module(n) for n in names]; print(len(names), p.__file__)")
    ran = subprocess.run([venv / "bin" / "python", "-c", code], cwd=folder, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split()[1].startswith(str(venv)), ran.stdout
    checked = subprocess.run([venv / "bin" / "python", "-m", "pip", "check"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout


def test_authz_demo_and_serve_run_from_the_installed_package_outside_the_checkout(venv, elsewhere):
    """`authz demo`, then the image's CMD on a free port; its HEALTHCHECK and one decision."""
    folder, env = elsewhere
    demo = subprocess.run([venv / "bin" / "authz", "demo"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert f"demo data loaded from {venv}" in demo.stdout
    assert "(8 new services, 3 new logins)" in demo.stdout
    key = re.search(r"demo key: (\S+)", demo.stdout).group(1)
    port = free_port()
    server = subprocess.Popen([venv / "bin" / "authz", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "2", "--threads", "1"], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(port)
        health = subprocess.run([venv / "bin" / "python", "-c", "import urllib.request; urllib.request.urlopen("
                                 f"'http://127.0.0.1:{port}/healthz', timeout=2)"], env=env, timeout=30)
        assert health.returncode == 0
        status, body = post(port, "/v1/authorize", {"user": "rita@acme.example", "action": "port.create",
                                                     "account": "initech"}, key)
        assert status == 200 and body["allowed"] is True, json.dumps(body)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
