"""`kill -9` mid-load loses no acknowledged log entry and leaves a valid chain, a tree that
extends every checkpoint signed before the kill (R7.4, R7.6)."""

import signal
import subprocess
import threading
import time

import pytest

from tests.support import backends
from tests.support.load import hammer, logged_ids
from tests.support.server import AUTHZ, ROOT, Server
from tests.support.soak import SCALE, tally


@pytest.mark.slow
@pytest.mark.parametrize("backend", backends.available())
def test_kill_9_mid_load_loses_no_acknowledged_entry(tmp_path, backend):
    """R7.4: 6 clients for ~2.5 s, SIGKILL to the whole server, restart: every 200's
    decision_id is in the log, and `authz log verify` passes, with every checkpoint signed
    during the load (R7.6: the tree and its checkpoints stay consistent after recovery). On
    PostgreSQL the log is the partitioned table (migration 11, docs/decisions/038)."""
    witness = tmp_path / "witness"
    env = {"AUTHZ_LOG_WITNESS_DIR": str(witness), "AUTHZ_LOG_CHECKPOINT_SECONDS": "0.3"}
    if backend == "postgres":
        env.update(AUTHZ_DATABASE_URL=backends.postgres_url(drop=True), AUTHZ_LOG_KEY_FILE=str(tmp_path / "log-key"))
    server = Server(tmp_path, workers=2, env=env)
    server.load_demo()
    server.start()
    received, stop = [], threading.Event()
    clients = [threading.Thread(target=hammer, args=(server.port, received, stop))
               for _ in range(6)]
    try:
        for client in clients:
            client.start()
        time.sleep(2.5 * SCALE)
        server.stop(signal.SIGKILL)  # the whole process group, mid-load
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=20)
    answered = set(received)
    assert len(answered) == len(received) > 50, "the load did not get going"
    server.start()
    try:
        missing = answered - logged_ids(server)
    finally:
        server.stop()
    tally("kill -9 under load", requests=len(received), faults=1, lost=len(missing))
    assert not missing, f"{len(missing)} acknowledged decisions are not in the log"
    verify = subprocess.run([AUTHZ, "log", "verify"], cwd=ROOT, env=server.env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ok:" in verify.stdout
    assert len(list(witness.iterdir())) > 1, "no checkpoint was signed under load"
    proven = subprocess.run([AUTHZ, "log", "verify", "--checkpoint", str(witness)], cwd=ROOT, env=server.env,
                            capture_output=True, text=True, timeout=120)
    assert proven.returncode == 0, proven.stdout + proven.stderr
