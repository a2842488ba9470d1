"""The chain's verification outside requests (must-hold 7): bounded slices, the last pass in a
0600 file, shown by the console."""

import os
import stat
import subprocess
import sys

from authz_service import store
from authz_service.log import check, checkpoint_audit
from authz_service.store import decisions as store_decisions
from authz_service.store.models import Decision
from tests.support.console import make_key, sign_in


def _decide(api, count: int) -> None:
    for _ in range(count):
        assert api.authorize("ada@acme.example", "port.view", "initech").status_code == 200


def _run(checker) -> int:
    """Steps until a pass is saved; returns how many steps it took."""
    steps = 1
    with store.connection():
        while not checker.step():
            steps += 1
            assert steps < 100
    return steps


def test_a_pass_walks_bounded_slices_and_keeps_its_result(app, api, client, monkeypatch, tmp_path):
    """Each step reads at most `size` entries; the saved result is 0600 and the console shows it."""
    monkeypatch.setattr(app.config["AUTHZ"], "log_spool_dir", str(tmp_path))
    _decide(api, 7)
    read = []
    walk = store_decisions.walk
    monkeypatch.setattr(store_decisions, "walk", lambda after, chunk: (read.append(chunk), walk(after, chunk))[1])
    checker = check.Checker(check.result_path(app.config["AUTHZ"]), every=60, size=3)
    assert _run(checker) == 3  # 3 + 3 + 1
    assert read == [3, 3, 3]
    path = check.result_path(app.config["AUTHZ"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    result = check.last_result(app.config["AUTHZ"])
    assert result["checked"] == 7 and result["problem"] is None
    assert not checker.step()  # the next pass waits `every` seconds
    sign_in(client, make_key("auditor", ["audit"]))
    assert "intact</span>, 7 entries checked" in client.get("/console/activity").get_data(as_text=True)


def test_a_changed_entry_is_reported(app, api, client, monkeypatch, tmp_path):
    """An entry changed in the database is found by the next pass and shown as broken."""
    monkeypatch.setattr(app.config["AUTHZ"], "log_spool_dir", str(tmp_path))
    _decide(api, 4)
    with store.connection():
        Decision.update(reason="nothing to see").where(Decision.seq == 2).execute()
    checker = check.Checker(check.result_path(app.config["AUTHZ"]), every=60, size=2)
    _run(checker)
    result = check.last_result(app.config["AUTHZ"])
    assert result["bad_seq"] == 2 and "changed after it was recorded" in result["problem"]
    sign_in(client, make_key("auditor", ["audit"]))
    assert "broken at entry 2" in client.get("/console/activity").get_data(as_text=True)


def test_while_entries_arrive_the_slices_take_a_bounded_share(app, api, monkeypatch, tmp_path):
    """Decision 049: while busy, a slice waits until the slices before it are at most SHARE of
    the time; when the writer is idle, the pass goes on at once."""
    monkeypatch.setattr(app.config["AUTHZ"], "log_spool_dir", str(tmp_path))
    _decide(api, 5)
    clock = [100.0]
    monkeypatch.setattr(check.time, "monotonic", lambda: clock[0])
    walk = store_decisions.walk

    def slow_walk(after, chunk):
        clock[0] += 0.002  # each slice "takes" 2 ms
        return walk(after, chunk)

    monkeypatch.setattr(store_decisions, "walk", slow_walk)
    checker = check.Checker(check.result_path(app.config["AUTHZ"]), every=60, size=2)
    with store.connection():
        assert not checker.step(busy=True)  # the first slice: entries 1-2
        assert checker.verdict.last_seq == 2
        rest = 0.002 * (1 - check.SHARE) / check.SHARE
        clock[0] += rest - 0.0001
        assert not checker.step(busy=True)  # still resting: nothing read
        assert checker.verdict.last_seq == 2
        clock[0] += 0.0002
        assert not checker.step(busy=True)  # rested: entries 3-4
        assert checker.verdict.last_seq == 4
        assert checker.step(busy=False)  # idle: at once, and the pass ends
    assert check.last_result(app.config["AUTHZ"])["checked"] == 5


def _class_of_run(how: str) -> list[str]:
    """Whether the child checkpoint_audit.RUN starts with `how` is in SCHED_IDLE, and its nice value."""
    code = checkpoint_audit.RUN.split("from authz_service.cli")[0]
    code += "import os; print(os.sched_getscheduler(0) == os.SCHED_IDLE, os.nice(0), sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, how, "log"], capture_output=True, text=True,
                          check=True).stdout.split()


def test_the_checkpoint_audit_runs_in_the_idle_class():
    """Decision 049: the child that walks the whole log (checkpoint_audit.RUN) asks for SCHED_IDLE,
    so it only takes a core that nothing else wants; its own arguments follow the class."""
    assert _class_of_run("idle") == ["True", "0", "['log']"]


def test_a_checkpoint_audit_started_again_runs_at_the_lowest_nice():
    """R7.6: a run started again after the idle class starved it takes nice 19, a share the
    scheduler always gives."""
    assert _class_of_run("nice") == ["False", "19", "['log']"]


class FakeChild:
    """A `verify --checkpoint` child that runs until told to end."""

    def __init__(self, args, **_):
        self.args, self.code, self.killed = args, None, False

    def poll(self):
        return self.code

    def kill(self):
        self.killed = True

    def wait(self):
        return self.code


def test_an_audit_the_idle_class_starves_is_started_again_at_nice_19(app, tmp_path, monkeypatch):
    """R7.6 on a machine busy all the time: an idle-class run still going after STARVED_PERIODS
    periods is ended and started again at nice 19, once; the next period's run is idle again."""
    clock, children = [1000.0], []
    monkeypatch.setattr(checkpoint_audit.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(checkpoint_audit.subprocess, "Popen", lambda args, **kw: children.append(FakeChild(args)) or children[-1])
    monkeypatch.setattr(checkpoint_audit, "result_path", lambda _: str(tmp_path / "audit.json"))
    settings = app.config["AUTHZ"]
    monkeypatch.setattr(settings, "log_verify_seconds", 10.0)
    audit = checkpoint_audit.Audit(settings, str(tmp_path), "key")
    clock[0] += 5
    assert not audit.step() and len(children) == 1
    classes = lambda: [c.args[3] for c in children]  # noqa: E731 (python -c RUN <class> log verify ...)
    clock[0] += checkpoint_audit.STARVED_PERIODS * 10 - 1
    assert not audit.step() and classes() == ["idle"]
    clock[0] += 2
    assert not audit.step() and classes() == ["idle", "nice"] and children[0].killed
    clock[0] += 1000
    assert not audit.step() and classes() == ["idle", "nice"] and not children[1].killed
    children[1].code = 0
    assert audit.step()
    assert checkpoint_audit.last_result(settings)["scheduled"] == "nice"
    clock[0] += 10
    audit.step()
    assert classes() == ["idle", "nice", "idle"]
    audit.stop()
