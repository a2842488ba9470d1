"""The files a server makes are its user's alone, and a stopped server leaves no temp folder
(issue 16 must-holds 7 and 8; docs/decisions/018-files-backup-keys.md)."""

import signal
import stat

from tests.support.server import Server


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_spool_and_folders_are_private_and_no_temp_folder_stays(tmp_path):
    """Database, -wal, -shm, spool and lock files 0600, their folders 0700, whatever the umask;
    after a clean stop nothing of ours is left in the temp folder."""
    data, temp = tmp_path / "data", tmp_path / "tmp"
    temp.mkdir()
    server = Server(tmp_path, env={"AUTHZ_DATABASE_URL": f"sqlite:///{data}/authz.db",
                                   "AUTHZ_LOG_SPOOL_DIR": str(data / "spool"), "TMPDIR": str(temp)})
    server.load_demo()
    server.start()
    try:
        status, _ = server.call("POST", "/v1/authorize", {"user": "rita@acme.example",
                                                          "action": "port.view", "account": "initech"})
        assert status == 200
        assert [p.name for p in temp.iterdir()], "the running server keeps its socket and metrics in one folder"
        assert all(mode(p) == 0o700 for p in temp.iterdir())
        files = [data / "authz.db", data / "authz.db-wal", data / "authz.db-shm",
                 *(data / "spool").iterdir()]
        assert {p.suffix for p in files} >= {".db", ".spool", ".lock"}
        assert {str(p): oct(mode(p)) for p in files} == {str(p): "0o600" for p in files}
        assert mode(data) == mode(data / "spool") == 0o700
    finally:
        server.stop(signal.SIGTERM)
    assert list(temp.iterdir()) == []


def test_a_killed_servers_temp_folder_is_removed_at_the_next_start(tmp_path):
    """A server killed with SIGKILL cannot clean up; the next start removes its folder."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = Server(tmp_path, workers=1, env={"TMPDIR": str(temp)})
    server.load_demo()
    server.start()
    left = set(temp.iterdir())
    server.stop(signal.SIGKILL)
    assert left and set(temp.iterdir()) == left
    server.start()
    try:
        assert not left & set(temp.iterdir())
    finally:
        server.stop()
    assert list(temp.iterdir()) == []
