"""The chain's verification outside requests (must-hold 7): bounded slices, the last pass in a
0600 file, shown by the console."""

import os
import stat

from authz_service import store
from authz_service.log import check
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
