"""Start-up (docs/decisions/023-start-up.md): create_app builds without side effects beyond
binding the database; start(app) starts the threads; migrating is a step of its own."""

import os
import subprocess
import sys
import threading

from click.testing import CliRunner

from authz_service import store
from authz_service.app import create_app, start
from authz_service.cli import main
from authz_service.store import migrations

THREADS = {"policy-watch", "mail-sender", "link-sweeper"}


def _started_since(before: set) -> set[str]:
    return {t.name for t in threading.enumerate() if t not in before} & THREADS


def _settings(tmp_path) -> dict:
    return {"database_url": f"sqlite:///{tmp_path}/a.db", "policy_poll_seconds": 60,
            "smtp_url": "smtp://127.0.0.1:9", "mail_poll_seconds": 60}


def test_create_app_starts_no_thread_and_start_starts_them(tmp_path):
    """A test app polls nothing; `authz serve`'s workers call start(app) (R8.3, R9.6, R10.1)."""
    before = set(threading.enumerate())
    app = create_app(_settings(tmp_path), migrate=True)
    assert _started_since(before) == set()
    state = start(app).extensions["authz"]
    try:
        assert _started_since(before) == THREADS
    finally:
        state.watch.stop()
        state.mailer.stop()
        state.sweeper.stop()
        store.close()


def test_create_app_does_not_migrate_unless_asked(tmp_path):
    """The schema is migrated by an explicit step; create_app only binds the database."""
    create_app(_settings(tmp_path))
    with store.connection():
        assert store.database.get_tables() == []
    create_app(_settings(tmp_path), migrate=True)
    with store.connection():
        assert migrations.current_version(store.database.obj) == migrations.MIGRATIONS[-1][0]
    store.close()


def test_db_status_names_what_is_pending(tmp_path, monkeypatch):
    """`authz db status`: the version, and exit 1 until `authz db migrate` has run."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", f"sqlite:///{tmp_path}/a.db")
    before = CliRunner().invoke(main, ["db", "status"])
    assert before.exit_code == 1 and before.output.startswith("at 0; pending [1, 2"), before.output
    assert CliRunner().invoke(main, ["db", "migrate"]).exit_code == 0
    after = CliRunner().invoke(main, ["db", "status"])
    latest = migrations.MIGRATIONS[-1][0]
    assert after.exit_code == 0 and after.output == f"at {latest}; pending nothing\n", after.output
    store.close()


def test_the_serve_master_does_not_import_prometheus_client():
    """The `authz` commands and serving/serve.py leave prometheus_client to the workers: it must
    see the PROMETHEUS_MULTIPROC_DIR that `authz serve` sets, or /metrics counts one worker only."""
    code = ("import sys, authz_service.cli, authz_service.serving.serve; "
            "print('prometheus_client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


FORKED_COUNTS = """
import os
import authz_service.metrics as m
m.DECISIONS.labels(action="a", allowed="true").inc()
child = os.fork()
if child == 0:
    m.DECISIONS.labels(action="a", allowed="true").inc(2)
    os._exit(0)
os.waitpid(child, 0)
print(os.getpid(), child)
"""


def test_each_worker_counts_in_a_file_of_its_own_pid(tmp_path):
    """metrics._pid_kept: a process's id is kept, not asked at every inc, and learnt again after a
    fork, so a worker forked from a process that counted still counts in its own file."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", FORKED_COUNTS], capture_output=True, text=True, check=True, env=env)
    parent, child = out.stdout.split()
    counters = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("counter_"))
    assert counters == sorted([f"counter_{parent}.db", f"counter_{child}.db"])
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("authz_decisions_total", {"action": "a", "allowed": "true"}) == 3


def test_a_worker_touches_its_heartbeat_file_once_a_second_not_once_a_loop(monkeypatch):
    """gunicorn's loop calls notify() each time round (every request under load): the worker
    passes at most one a second to its file, which the master reads against its 60 s timeout."""
    from authz_service.serving import serve

    touched, clock = [], [1000.0]
    worker = serve.BalancedThreadWorker.__new__(serve.BalancedThreadWorker)
    worker.tmp = type("Tmp", (), {"notify": lambda self: touched.append(clock[0])})()
    monkeypatch.setattr(serve.time, "monotonic", lambda: clock[0])
    for _ in range(500):  # one second of a busy loop
        worker.notify()
        clock[0] += 0.002
    assert touched == [1000.0]  # the first at once, none of the next 499
    clock[0] += 0.002
    worker.notify()
    assert len(touched) == 2 and touched[1] >= 1000.0 + serve.HEARTBEAT_SECONDS
