"""A taken port stops `authz serve` and `authz demo --check-port` (make run) at once, with a clear
message, before any demo data is loaded or key made (docs/decisions/021)."""

import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AUTHZ = str(ROOT / ".venv" / "bin" / "authz")


@pytest.fixture
def taken():
    """A port some other process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def authz(tmp_path, *args):
    env = {**os.environ, "AUTHZ_DATABASE_URL": f"sqlite:///{tmp_path}/authz.db"}
    return subprocess.run([AUTHZ, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_make_run_stops_before_loading_the_demo_or_making_a_key(tmp_path, taken):
    ran = authz(tmp_path, "demo", "--check-port", "--host", "127.0.0.1", "--port", str(taken))
    assert ran.returncode == 1
    assert f"127.0.0.1:{taken} is already in use" in ran.stderr
    assert not (tmp_path / "authz.db").exists()
    assert not (tmp_path / "authz.db.demo-key").exists()


def test_serve_stops_at_once_on_a_taken_port(tmp_path, taken):
    ran = authz(tmp_path, "serve", "--host", "127.0.0.1", "--port", str(taken))
    assert ran.returncode == 1
    assert f"127.0.0.1:{taken} is already in use" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_free_port_is_no_obstacle(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    ran = authz(tmp_path, "demo", "--check-port", "--no-key", "--port", str(free))
    assert ran.returncode == 0, ran.stderr
    assert "(8 new services, 3 new logins)" in ran.stdout
