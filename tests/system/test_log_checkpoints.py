"""Under `authz serve` the log writer signs checkpoints of the log's tree while entries arrive,
at least every AUTHZ_LOG_CHECKPOINT_SECONDS, into the witness folder, never rewriting one; the
log extends every one of them (R7.6; docs/decisions/030-signed-checkpoints.md)."""

import os
import signal
import threading
import time

from authz_service.log.checkpoints import kept
from tests.support.load import hammer, logged_ids
from tests.support.server import Server, writer_pid


def test_the_writer_signs_checkpoints_while_entries_arrive(tmp_path):
    witness = tmp_path / "witness"
    server = Server(tmp_path, workers=2, env={"AUTHZ_LOG_WITNESS_DIR": str(witness),
                                              "AUTHZ_LOG_KEY_FILE": str(tmp_path / "keys" / "log-key"),
                                              "AUTHZ_LOG_CHECKPOINT_SECONDS": "1"})
    server.load_demo()
    server.start()
    seen: dict[str, float] = {}
    try:
        received, stop = [], threading.Event()
        clients = [threading.Thread(target=hammer, args=(server.port, received, stop)) for _ in range(3)]
        for c in clients:
            c.start()
        deadline = time.monotonic() + 4.5
        while time.monotonic() < deadline:
            for name in kept(witness) if witness.exists() else []:
                seen.setdefault(name, os.stat(name).st_mtime)
            time.sleep(0.1)
        stop.set()
        for c in clients:
            c.join(timeout=15)
        assert len(received) > 20
    finally:
        server.stop()
    assert len(seen) >= 3, sorted(seen)  # about one a second while entries arrive
    assert all(os.stat(name).st_mtime == at for name, at in seen.items())  # none rewritten
    assert oct(os.stat(tmp_path / "keys" / "log-key").st_mode & 0o777) == "0o600"
    checked = server.run_cli("log", "verify", "--checkpoint", str(witness))
    assert checked.returncode == 0, checked.stderr
    key = server.run_cli("log", "key").stdout.strip()
    assert key.startswith("authz-service/") and len(key.split("+")) >= 3
    sizes = sorted(int(os.path.basename(name).split("-")[0]) for name in kept(witness))
    assert sizes[-1] >= len(received)  # the last one, signed as the writer left, covers every answer


def test_a_writer_killed_under_load_leaves_the_tree_and_its_checkpoints_consistent(tmp_path):
    """kill -9 of the writer while decisions arrive: the master starts a new one, nothing
    answered is lost, and the stored log still extends every checkpoint signed before,
    during and after (the tree's edge moves in the same transaction as its entries)."""
    witness = tmp_path / "witness"
    server = Server(tmp_path, workers=2, env={"AUTHZ_LOG_WITNESS_DIR": str(witness),
                                              "AUTHZ_LOG_CHECKPOINT_SECONDS": "0.5"})
    server.load_demo()
    server.start()
    try:
        received, stop = [], threading.Event()
        clients = [threading.Thread(target=hammer, args=(server.port, received, stop)) for _ in range(3)]
        for c in clients:
            c.start()
        time.sleep(1.5)
        os.kill(writer_pid(server), signal.SIGKILL)
        time.sleep(3)
        stop.set()
        for c in clients:
            c.join(timeout=15)
        deadline = time.monotonic() + 30  # the restarted writer answers reads again
        while server.call("GET", "/v1/decisions?limit=1")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(received) <= logged_ids(server)
    finally:
        server.stop()
    assert len(kept(str(witness))) >= 2
    checked = server.run_cli("log", "verify", "--checkpoint", str(witness))
    assert checked.returncode == 0, checked.stderr
