"""The host's decision-log spool and its writer (docs/decisions/007-log-spool.md; R7.1, R7.4).

Under `authz serve` a decision is appended to the spool before its answer leaves; the
writer process stores the spool in batches; readers sync first, so they see every
entry answered before them. Entries a killed server left are stored, once, later.
"""

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from authz_service import store
from authz_service.config import Settings
from authz_service.decide import authorize as decisions
from authz_service.log import audit, spool_records
from authz_service.log import chain as decision_log
from authz_service.log import ingest as log_ingest
from authz_service.log import server as log_server
from authz_service.log import spool as log_spool
from tests.support.load import hammer, logged_ids
from tests.support.server import Server, writer_pid

BASE = {"user": "rita@acme.example", "action": "port.create", "account": "initech"}


def test_records_skip_cut_lines_and_wait_for_unfinished():
    """A line cut short by a failed write is skipped; an unfinished last line waits for its end."""
    whole = log_spool.line([b'["a"]'], None)
    data = whole + b'\n{"entries": [["cut' + whole + whole[:-5]
    found, used = spool_records.records(data)
    assert found == [{"entries": [["a"]], "activity": None}] * 2
    assert data[used:] == whole[1:-5]  # its leading newline ended an empty line


def _settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"database_url": f"sqlite:///{tmp_path}/authz.db"})


def _spool_some(app, monkeypatch, path: Path, count: int) -> list[str]:
    """`count` authorize decisions appended to a spool at `path` (no writer running)."""
    monkeypatch.setenv(log_spool.SPOOL_ENV, str(path))
    monkeypatch.delenv(log_spool.SOCKET_ENV, raising=False)
    with app.app_context(), store.connection():
        policy = app.extensions["authz"].policy
        ids = [decisions.authorize(policy, "ian@initech.example", "port.view", "initech")["decision_id"]
               for _ in range(count)]
    monkeypatch.delenv(log_spool.SPOOL_ENV)
    return ids


@pytest.fixture
def sqlite_app(tmp_path):
    from authz_service.app import create_app
    from authz_service.store import fixtures

    application = create_app({"database_url": f"sqlite:///{tmp_path}/authz.db", "policy_poll_seconds": 0}, migrate=True)
    with store.connection():
        fixtures.load()
    yield application
    store.close()


def _stored_ids() -> list[str]:
    return [e["id"] for e in store.decisions.walk()]


def test_a_left_spool_is_stored_once_with_a_valid_chain(sqlite_app, tmp_path, monkeypatch):
    """R7.4: what a killed server spooled is stored by the next writer (or `authz log verify`),
    each entry once, even from a copy of the same spool; the chain verifies."""
    spool = tmp_path / "authz.db-log-killed.spool"
    ids = _spool_some(sqlite_app, monkeypatch, spool, 25)
    shutil.copy(spool, tmp_path / "authz.db-log-copy.spool")
    with store.connection():
        before = set(_stored_ids())
        assert not set(ids) & before  # spooled, not stored yet
        assert log_server.recover(_settings(tmp_path)) == 50
        stored = _stored_ids()
        assert set(ids) <= set(stored) and len(stored) == len(set(stored)) == len(before) + 25
        assert audit.verify().problem is None
        assert log_server.recover(_settings(tmp_path)) == 0
    assert not list(tmp_path.glob("*.spool"))


def test_a_spool_held_by_a_live_server_is_left_alone(sqlite_app, tmp_path, monkeypatch):
    """A running server's spool is its own: while any of its processes holds the spool's lock
    (a worker, say, while the writer restarts), recovery leaves the spool alone."""
    spool = tmp_path / "authz.db-log-live.spool"
    _spool_some(sqlite_app, monkeypatch, spool, 3)
    lock = log_spool.hold(str(spool))
    try:
        with store.connection():
            assert log_server.recover(_settings(tmp_path)) == 0
        assert spool.exists()
    finally:
        os.close(lock)
    with store.connection():
        assert log_server.recover(_settings(tmp_path)) == 3


def test_rotation_moves_the_spool_aside_and_loses_nothing(sqlite_app, tmp_path, monkeypatch):
    """Rotation: the writer moves a stored spool aside and reads on from a new one; entries an
    appender still writes to the moved file (before it notices) are stored too."""
    spool = tmp_path / "authz.db-log-rotating.spool"
    monkeypatch.setattr(log_spool, "REOPEN_SECONDS", 3600)  # appenders keep the moved file
    first = _spool_some(sqlite_app, monkeypatch, spool, 5)
    with store.connection():
        ingester = log_ingest.Ingester(str(spool), dedupe=False)
        assert ingester.step() == 5
        fresh = ingester.move_aside()
        late = _spool_some(sqlite_app, monkeypatch, spool, 3)  # into the moved file
        monkeypatch.setattr(log_spool, "REOPEN_SECONDS", 0)
        second = _spool_some(sqlite_app, monkeypatch, spool, 4)  # into the new one
        assert ingester.step() == 3 and fresh.step() == 4
        assert set(first + late + second) <= set(_stored_ids())
        assert audit.verify().problem is None
        ingester.close(remove=True)
        fresh.close(remove=True)
    assert not list(tmp_path.glob("*.spool*"))


def test_recovery_reads_moved_files_too(sqlite_app, tmp_path, monkeypatch):
    """A killed writer's moved-aside files are part of its spool: all are stored, then removed."""
    spool = tmp_path / "authz.db-log-rotated.spool"
    first = _spool_some(sqlite_app, monkeypatch, spool, 3)
    log_ingest.Ingester(str(spool), dedupe=False).move_aside()
    monkeypatch.setattr(log_spool, "REOPEN_SECONDS", 0)
    second = _spool_some(sqlite_app, monkeypatch, spool, 2)
    with store.connection():
        assert log_server.recover(_settings(tmp_path)) == 5
        assert set(first + second) <= set(_stored_ids())
        assert audit.verify().problem is None
    assert not list(tmp_path.glob("*.spool*")) and not list(tmp_path.glob("authz.db-log-rot*.lock"))


def test_without_a_writer_decisions_still_answer_but_reads_fail_closed(client, tmp_path, monkeypatch):
    """R7.1: the spool takes the entry, so authorize answers; a log read that cannot confirm
    every entry is stored answers 503, never a page missing entries."""
    monkeypatch.setenv(log_spool.SPOOL_ENV, str(tmp_path / "authz.db-log-orphan.spool"))
    monkeypatch.setenv(log_spool.SOCKET_ENV, str(tmp_path / "nobody-listens.sock"))
    headers = {"Authorization": "Bearer test-bootstrap-key-0123456789"}
    assert client.post("/v1/authorize", json=BASE, headers=headers).status_code == 200
    response = client.get("/v1/decisions", headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    with pytest.raises(decision_log.LogUnavailable):
        decision_log.sync()


def test_served_decisions_are_read_back_at_once_and_batched(tmp_path):
    """Under `authz serve`: every answered decision_id is listed right after (sync), the chain
    verifies, and the writer stored them in batches of more than one (authz_log_commit_batch_size)."""
    server = Server(tmp_path, workers=2)
    server.load_demo()
    server.start()
    try:
        received, stop = [], threading.Event()
        clients = [threading.Thread(target=hammer, args=(server.port, received, stop)) for _ in range(6)]
        for c in clients:
            c.start()
        time.sleep(1.5)
        stop.set()
        for c in clients:
            c.join(timeout=15)
        assert len(received) > 50
        assert set(received) <= logged_ids(server)
        metrics = server.call_text("/metrics")
        count = _sample(metrics, "authz_log_commit_batch_size_count")
        total = _sample(metrics, "authz_log_commit_batch_size_sum")
        assert count > 0 and total / count > 1, (count, total)
    finally:
        server.stop()
    assert server.run_cli("log", "verify").returncode == 0


def _sample(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "{"))


def test_a_killed_writer_is_restarted_and_nothing_is_lost(tmp_path):
    """The writer process killed (SIGKILL) while the server runs: decisions keep answering
    (the spool takes them), a new writer stores them, and reads see every one."""
    server = Server(tmp_path, workers=2)
    server.load_demo()
    server.start()
    try:
        ids = [server.call("POST", "/v1/authorize", BASE)[1]["decision_id"] for _ in range(5)]
        os.kill(writer_pid(server), signal.SIGKILL)
        ids += [server.call("POST", "/v1/authorize", BASE)[1]["decision_id"] for _ in range(5)]
        deadline = time.monotonic() + 20
        while server.call("GET", "/v1/decisions?limit=1")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(ids) <= logged_ids(server)
    finally:
        server.stop()
    assert server.run_cli("log", "verify").returncode == 0


@pytest.fixture
def writer(sqlite_app, tmp_path, monkeypatch):
    """A log writer in this process on tmp_path's spool; `writer.stop()` closes its stdin and
    runs it to its end (store the rest, exit). Appenders follow a moved spool at once."""
    read_end, write_end = os.pipe()
    stdin = os.fdopen(read_end)
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.setattr(log_spool, "REOPEN_SECONDS", 0)
    spool = tmp_path / "authz.db-log-own.spool"
    with store.connection():
        server = log_server.Server(_settings(tmp_path), str(spool), str(tmp_path / "w.sock"))
    server.spool = spool

    def stop():
        os.close(write_end)
        server.run()

    server.stop = stop
    yield server
    # The writer's process would end here; in this one its socket, selector and stdin are closed.
    server.selector.close()
    server.listener.close()
    stdin.close()


def test_the_writer_rotates_and_retires_moved_files(sqlite_app, writer, tmp_path, monkeypatch):
    """The writer's own loop: a spool past ROTATE_BYTES is moved aside, read until quiet for
    RETIRE_SECONDS, then removed; every entry is stored, in one valid chain."""
    monkeypatch.setattr(log_server, "ROTATE_BYTES", 1)
    monkeypatch.setattr(log_server, "RETIRE_SECONDS", 0.0)
    with store.connection():
        ids = []
        for _ in range(3):
            ids += _spool_some(sqlite_app, monkeypatch, writer.spool, 2)
            writer._ingest()
            assert len(list(tmp_path.glob("*.spool.r*"))) <= 1  # moved files retire once quiet
        writer._ingest()
        assert not list(tmp_path.glob("*.spool.r*"))
        assert set(ids) <= set(_stored_ids()) and audit.verify().problem is None
    writer.stop()  # stdin closed: store the rest and exit
    assert not list(tmp_path.glob("authz.db-log-own*"))


def test_a_spool_removed_by_hand_is_followed(sqlite_app, writer, tmp_path, monkeypatch):
    """If the spool file is removed under a running writer, appenders make a new one at the
    name and the writer follows it: nothing appended afterwards waits unseen."""
    with store.connection():
        first = _spool_some(sqlite_app, monkeypatch, writer.spool, 2)
        writer._ingest()
        writer.spool.unlink()
        writer._ingest()  # notices; reads on from whatever file takes the name
        later = _spool_some(sqlite_app, monkeypatch, writer.spool, 3)
        writer._ingest()
        assert set(first + later) <= set(_stored_ids())
    writer.stop()
    assert not writer.failing and not list(tmp_path.glob("authz.db-log-own*"))


def test_a_batch_moves_each_customers_last_activity_to_its_latest(sqlite_app, tmp_path, monkeypatch):
    """R5.6 through the writer: one update for the whole batch, each customer's last activity
    at its latest time in the batch (an older record last does not move it back)."""
    from datetime import datetime, timedelta

    from authz_service.store import summary

    spool = tmp_path / "authz.db-log-activity.spool"
    _spool_some(sqlite_app, monkeypatch, spool, 3)
    batch, _ = spool_records.records(spool.read_bytes())
    start = datetime(2026, 11, 25, 12, 0, 0)
    for record, (customer, minutes) in zip(batch, [("initech", 2), ("umbrella", 1), ("initech", 0)], strict=True):
        record["activity"] = [[customer], (start + timedelta(minutes=minutes)).isoformat()]
    updates = []
    real = summary.note_latest
    monkeypatch.setattr(summary, "note_latest", lambda latest: updates.append(dict(latest)) or real(latest))
    with store.connection():
        log_ingest.store_records(batch, dedupe=False)
        assert updates == [{"initech": start + timedelta(minutes=2), "umbrella": start + timedelta(minutes=1)}]
        assert summary.read("initech")["last_activity"] == start + timedelta(minutes=2)
        assert summary.read("umbrella")["last_activity"] == start + timedelta(minutes=1)
        assert len(_stored_ids()) >= 3 and audit.verify().problem is None


def test_a_failed_activity_update_keeps_the_batch(sqlite_app, tmp_path, monkeypatch):
    """The entries were acknowledged before the writer stores them: a figure that cannot move
    (R5.6) never drops them (R7.4)."""
    from authz_service.store import summary

    spool = tmp_path / "authz.db-log-failing.spool"
    ids = _spool_some(sqlite_app, monkeypatch, spool, 4)
    batch, _ = spool_records.records(spool.read_bytes())
    assert all(record["activity"] for record in batch)  # a customer's own user, at home

    def fail(latest):
        raise RuntimeError("figures could not move")

    monkeypatch.setattr(summary, "note_latest", fail)
    with store.connection():
        log_ingest.store_records(batch, dedupe=False)
        assert set(ids) <= set(_stored_ids())
