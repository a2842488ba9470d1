"""Checkpoints pushed to a second place (R7.6; docs/decisions/034-log-export-and-stream.md):
AUTHZ_LOG_WITNESS_PUSH as a folder and as a loopback HTTP server; a failed push is counted and
retried, and every checkpoint arrives once, in order."""

import http.server
import threading

import pytest
from click.testing import CliRunner
from prometheus_client import REGISTRY

from authz_service import store
from authz_service.cli import main
from authz_service.log import checkpoints, witness_push
from tests.support.log_entries import append, entry

FAILED = "authz_log_witness_push_failures_total"


@pytest.fixture
def settings(app, tmp_path):
    settings = app.config["AUTHZ"]
    settings.log_key_file, settings.log_witness_dir = str(tmp_path / "log-key"), str(tmp_path / "witness")
    return settings


def signed(settings, count: int) -> list[str]:
    """`count` checkpoints of a growing log, as the writer signs them."""
    notes = []
    for n in range(count):
        append([entry(n)])
        with store.connection():
            notes.append(checkpoints.make(settings))
    return notes


def failures() -> float:
    return REGISTRY.get_sample_value(FAILED) or 0.0


def test_a_folder_gets_every_checkpoint_once_and_a_failure_is_counted_and_retried(settings, tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.write_text("a file where the folder should be")  # the push fails until it is a folder
    settings.log_witness_push = str(target)
    notes = signed(settings, 3)
    pusher, before = witness_push.Pusher(settings), failures()
    assert pusher.step() == 0 and failures() == before + 1
    target.unlink()
    target.mkdir()
    assert pusher.step() == 3  # R7.6: the retry delivers them all, oldest first
    assert [p.read_text() for p in sorted(target.iterdir())] == notes
    notes += signed(settings, 1)
    assert pusher.step() == 1 and pusher.step() == 0  # once each
    assert len(list(target.iterdir())) == 4
    monkeypatch.setenv("AUTHZ_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", settings.log_key_file)
    result = CliRunner().invoke(main, ["log", "verify", "--checkpoint", str(target)])
    assert result.exit_code == 0 and "4 checkpoints" in result.output, result.output  # the copy verifies alone


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first `refuse` posts, then 204, keeping each body taken."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        server = self.server
        if server.refuse > 0:
            server.refuse -= 1
            self.send_response(503)
        else:
            server.taken.append((self.headers["Authz-Checkpoint-Name"], body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.refuse, server.taken, server.daemon_threads = 2, [], True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_url_is_posted_every_checkpoint_after_refusals_are_retried(settings, receiver):
    settings.log_witness_push = f"http://127.0.0.1:{receiver.server_address[1]}/checkpoints"
    notes = signed(settings, 3)
    pusher, before = witness_push.Pusher(settings), failures()
    assert pusher.step() == 0 and pusher.step() == 0  # two 503s: counted, nothing marked delivered
    assert failures() == before + 2
    assert pusher.step() == 3
    assert [body for _, body in receiver.taken] == notes
    assert [name for name, _ in receiver.taken] == sorted(name for name, _ in receiver.taken)


def test_the_writers_thread_pushes_what_is_signed(settings, receiver):
    receiver.refuse = 0
    settings.log_witness_push = f"http://127.0.0.1:{receiver.server_address[1]}/"
    settings.log_checkpoint_seconds = 0.001
    scheduler = checkpoints.Scheduler(settings)  # as the log writer makes it: the thread starts
    try:
        append([entry(1)])
        with store.connection():
            assert scheduler.step()
        scheduler.pusher.wake.set()
        for _ in range(500):  # bounded wait for the thread, not a timed assertion
            if receiver.taken:
                break
            scheduler.pusher.stopped.wait(0.01)
        assert len(receiver.taken) == 1
    finally:
        scheduler.pusher.stop()


def test_a_scheme_that_is_not_http_pushes_nothing(settings):
    settings.log_witness_push = "ftp://example.com/x"
    assert witness_push.start(settings) is None
