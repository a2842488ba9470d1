"""clients/python installs alone: a wheel built offline, in a clean venv with urllib3 and no
Flask, imports, decides (fails closed) and says which extra its Flask decorator needs."""

import importlib.metadata
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"

# Run in the clean venv: no Flask anywhere, the client works without it.
IN_CLEAN_VENV = textwrap.dedent("""
    import importlib.util, socket, sys
    assert importlib.util.find_spec("flask") is None, "flask is installed"
    import authz_client
    assert "flask" not in sys.modules
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    client = authz_client.AuthzClient(f"http://127.0.0.1:{port}", "k", timeout=1, retries=0)
    decision = client.authorize("ada@acme.example", "port.view", "acme")
    assert not decision and decision.rule == authz_client.FAIL_CLOSED_RULE, decision
    try:
        import authz_client.flask
    except ImportError as exc:
        assert "authz-client[flask]" in str(exc), exc
    else:
        raise AssertionError("authz_client.flask imported without Flask")
    print("ok", authz_client.__file__)
""")

# Run in this project's venv, where Flask is installed but any import of it fails.
FLASK_BLOCKED = textwrap.dedent("""
    import importlib.abc, sys

    class NoFlask(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "flask" or name.startswith(("flask.", "werkzeug")):
                raise ImportError(f"blocked: {name}")

    sys.meta_path.insert(0, NoFlask())
    import authz_client
    from authz_client import client, decision, errors, transport
    assert not any(m == "flask" or m.startswith(("flask.", "werkzeug")) for m in sys.modules)
    print("ok")
""")


def test_imports_with_flask_blocked():
    """Every module but authz_client.flask imports while any import of Flask fails."""
    ran = subprocess.run([sys.executable, "-c", FLASK_BLOCKED], capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stderr


@pytest.mark.slow
def test_installs_alone_in_a_clean_venv(tmp_path):
    """A wheel built without the network installs with --no-index into a fresh venv holding
    only urllib3 (copied from this venv); pip check passes and Flask is nowhere."""
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
           "--no-index", "-w", str(wheels), str(CLIENT)]
    subprocess.run(pip, check=True, capture_output=True)
    (wheel,) = wheels.glob("authz_client-*.whl")
    assert "authz_client/py.typed" in zipfile.ZipFile(wheel).namelist()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    _copy_distribution("urllib3", Path(_site_packages(python)))
    subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet",
                    str(wheel)], check=True)
    checked = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout
    installed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"],
                               capture_output=True, text=True, check=True).stdout.lower()
    assert "authz-client==0.1.0" in installed and "flask" not in installed
    ran = subprocess.run([python, "-c", IN_CLEAN_VENV], capture_output=True, text=True,
                         cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert str(venv) in ran.stdout
    checker = str(venv / "bin" / "authz-check-export")  # R7.6: the export checker, installed alone
    assert subprocess.run([checker, "--help"], capture_output=True, text=True).returncode == 0
    (tmp_path / "export.json").write_text("{}")
    refused = subprocess.run([checker, str(tmp_path / "export.json"), "--key", "k+00000000+AQ=="],
                             capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stderr.startswith("FAILED: not an export file"), refused.stderr


def _site_packages(python: str) -> str:
    return subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _copy_distribution(name: str, target: Path) -> None:
    """Copy an installed distribution's package and metadata (as pip would have installed it)."""
    here = Path(sysconfig.get_paths()["purelib"])
    dist = importlib.metadata.distribution(name)
    for top in {Path(str(f)).parts[0] for f in dist.files or []} - {"..", ""}:
        source = here / top
        if source.is_dir():
            shutil.copytree(source, target / top, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, target / top)
