"""Each class of bad policy folder is refused with a clear reason, and the last good policy stays (R9.6).

Refused: a symlink leaving policies/, a non-regular file (a FIFO must not block the
watch), a file over 1 MiB or a folder over 4 MiB, a file that is not UTF-8, and
files whose own decision tables fail. /readyz stays 200 with the version in force
and says why and since when.
"""

import os
import threading

import pytest

from authz_service.policy import snapshot
from tests.support.policy_scratch import CHECK, allowed, edit, scratch_app


@pytest.fixture
def running(tmp_path):
    with scratch_app(tmp_path) as (app, policies):
        yield app, policies


def symlink_out(policies):
    outside = policies.parent / "elsewhere.csv"
    outside.write_text("p, support, *, port: view create edit, allow\n")
    (policies / "extra.csv").symlink_to(outside)


def fifo(policies):
    os.mkfifo(policies / "extra.csv")


def fifo_in_tests(policies):
    os.mkfifo(policies / "tests" / "extra.csv")


def huge_comment(policies):
    (policies / "notes.csv").write_bytes(b"#" * (snapshot.MAX_FILE + 1))


def too_much_in_all(policies):
    for n in range(snapshot.MAX_TOTAL // snapshot.MAX_FILE + 1):
        (policies / f"notes{n}.csv").write_bytes(b"#" * (snapshot.MAX_FILE - 10))


def not_utf8(policies):
    with open(policies / "services.csv", "ab") as rules:
        rules.write(b"# caf\xe9\n")


def failing_tables(policies):
    """Support may upload documents, but the R3 tables still say it may not."""
    edit(policies / "services.csv", "p, support, *, document: view,", "p, support, *, document: view upload,")


def broken_invariant(policies):
    """Support may create ports, which an invariant forbids (R3, R9.5), tables and all."""
    edit(policies / "services.csv", "p, support, *, port: view edit", "p, support, *, port: view create edit")
    edit(policies / "tests" / "r3_customer_account.csv", "ike@initech.example,port.create,initech,deny",
         "ike@initech.example,port.create,initech,allow")


REFUSALS = {
    "symlink_out": (symlink_out, "symlink leaving policies/"),
    "fifo": (fifo, "not a regular file"),
    "fifo_in_tests": (fifo_in_tests, "not a regular file"),
    "huge_file": (huge_comment, f"larger than {snapshot.MAX_FILE} bytes"),
    "too_much_in_all": (too_much_in_all, f"exceed {snapshot.MAX_TOTAL} bytes in all"),
    "not_utf8": (not_utf8, "not UTF-8"),
    "failing_tables": (failing_tables, "decision tables fail: policies/tests/r3_customer_account.csv"),
    "broken_invariant": (broken_invariant, "invariant 'support-changes-no-cost'"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_folder_is_refused_and_the_last_good_policy_stays(running, case):
    """R9.6: refused with the reason; same version, same decisions; /readyz 200 says why."""
    app, policies = running
    client, watch = app.test_client(), app.extensions["authz"].watch
    old = client.get("/readyz").json["policy_version"]
    make_bad, reason = REFUSALS[case]
    make_bad(policies)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(watch.check_once()), daemon=True)
    worker.start()
    worker.join(30)  # a FIFO once froze the watch for good
    assert outcome == [False], "the reload hung or was accepted"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert ready.json["policy_version"] == old
    assert reason in ready.json["policy_reload_error"]
    assert ready.json["policy_reload_refused_at"] is not None
    assert allowed(client) is False and allowed(client, {**CHECK, "action": "port.edit"}) is True


def test_watching_reads_no_file_until_one_changes(running, monkeypatch):
    """A large file is not read again every tick: unchanged stat, no read (and no re-hash)."""
    app, policies = running
    watch = app.extensions["authz"].watch
    (policies / "notes.csv").write_bytes(b"# " + b"x" * (snapshot.MAX_FILE - 3) + b"\n")
    assert watch.check_once() is True and watch.error is None  # a comment file: a new version
    reads = []
    real_read = snapshot.read
    monkeypatch.setattr(snapshot, "read", lambda root: reads.append(root) or real_read(root))
    for _ in range(3):
        assert watch.check_once() is False
    assert reads == []
    (policies / "notes.csv").write_bytes(b"# shorter\n")
    watch.check_once()
    assert len(reads) == 1
