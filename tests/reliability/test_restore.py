"""Backup and restore after `kill -9` (issue 16 class 10, must-hold 8; docs/operating.md
"Backup and restore"): serve, write, back up, write more, kill -9, restore, verify, serve again."""

import signal
import stat

import pytest

from tests.support.server import Server

pytestmark = pytest.mark.slow

CHECK = {"user": "rita@acme.example", "action": "port.view", "account": "initech"}


def test_restore_after_kill_9_verifies_and_serves(tmp_path):
    server = Server(tmp_path, workers=2)
    server.load_demo()
    server.start()
    for _ in range(20):
        assert server.call("POST", "/v1/authorize", CHECK)[0] == 200
    backup = tmp_path / "backups" / "authz.db"
    made = server.run_cli("db", "backup", str(backup))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    refused = server.run_cli("db", "restore", str(backup))
    assert refused.returncode == 1 and "stop it first" in refused.stderr  # not under a running server
    assert server.call("PUT", "/v1/partners/acme/users/late@acme.example", {"group": "regular"})[0] == 201
    for _ in range(200):  # entries that may still be in the spool or the -wal when killed
        assert server.call("POST", "/v1/authorize", CHECK)[0] == 200
    server.stop(signal.SIGKILL)
    assert (tmp_path / "authz.db-wal").exists()

    restored = server.run_cli("db", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "authz.db-wal" in restored.stdout and ".spool" in restored.stdout
    verified = server.run_cli("log", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("ok:"), verified.stderr

    server.start()
    try:
        assert server.call("POST", "/v1/authorize", CHECK)[0] == 200
        assert server.call("DELETE", "/v1/users/late@acme.example")[0] == 404  # made after the backup
    finally:
        server.stop()
    again = server.run_cli("log", "verify")
    assert again.returncode == 0, again.stderr


def test_backup_and_restore_refuse_what_they_cannot_do(tmp_path):
    """A backup over an existing file, a restore from a file that is not a database: clear
    errors, nothing changed."""
    server = Server(tmp_path, workers=1)
    server.load_demo()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    before = (tmp_path / "authz.db").read_bytes()
    result = server.run_cli("db", "restore", str(junk))
    assert result.returncode == 1 and "not a readable SQLite database" in result.stderr
    assert (tmp_path / "authz.db").read_bytes() == before
    result = server.run_cli("db", "backup", str(junk))
    assert result.returncode == 1 and "exists" in result.stderr
    fresh = server.run_cli("db", "backup", str(tmp_path / "x.db"))
    assert fresh.returncode == 0
