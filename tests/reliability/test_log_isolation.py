"""The log writer isolates a poisoned batch (R7.4; docs/decisions/013-log-values.md): a record
the database refuses is set aside in `<spool>.rejected`, the rest of its batch is stored."""

import json
import os
import stat

from authz_service import metrics, store
from authz_service.decide import authorize as decisions
from authz_service.log import audit
from authz_service.log import chain as decision_log
from authz_service.log import ingest as log_ingest
from authz_service.log import rejected as log_rejected
from authz_service.log import spool as log_spool
from authz_service.store import decisions as store_decisions

USER = store_decisions.CONTENT.index("user_email")


def _spooled_lines(app, monkeypatch, path, count: int) -> list[bytes]:
    """`count` decisions appended to a spool file (no writer running); its records' lines."""
    monkeypatch.setenv(log_spool.SPOOL_ENV, str(path))
    monkeypatch.delenv(log_spool.SOCKET_ENV, raising=False)
    with app.app_context(), store.connection():
        policy = app.extensions["authz"].policy
        for _ in range(count):
            decisions.authorize(policy, "ian@initech.example", "port.view", "initech")
    monkeypatch.delenv(log_spool.SPOOL_ENV)
    lines = [b"\n" + line + b"\n" for line in path.read_bytes().split(b"\n") if line.strip()]
    path.unlink()
    return lines


def _poisoned(line: bytes, **change) -> bytes:
    """A copy of a record with a new id and a value the database refuses."""
    record = json.loads(line)
    content = record["entries"][0]
    content[0] = decision_log.new_id()
    if "user_email" in change:
        content[USER] = change["user_email"]
    if change.get("short"):
        del content[1:4]  # a row no database takes: too few columns
    return log_spool.line([json.dumps(content).encode()], record["activity"])


def _rejected_count() -> float:
    return metrics.LOG_REJECTED._value.get()


def test_a_refused_record_is_set_aside_and_the_rest_of_its_batch_is_stored(app, tmp_path, monkeypatch):
    """A record with a NULL user (refused by NOT NULL on both stores) and one with too few columns,
    in one batch among good ones: the good ones are stored, the two set aside (0600), counted,
    and the writer goes on; the chain verifies. Fails without log_ingest.store_batch's
    record-by-record retry (the batch fails on every tick, forever)."""
    spool = tmp_path / "authz.db-log-poison.spool"
    good = _spooled_lines(app, monkeypatch, spool, 6)
    bad = [_poisoned(good[0], user_email=None), _poisoned(good[1], short=True)]
    spool.write_bytes(b"".join(good[:2] + bad[:1] + good[2:4] + bad[1:] + good[4:]))
    good_ids = [json.loads(line)["entries"][0][0] for line in good]
    before = _rejected_count()
    with store.connection():
        ingester = log_ingest.Ingester(str(spool), dedupe=False)
        assert ingester.step() == 8
        stored = {e["id"] for e in store_decisions.walk()}
        assert set(good_ids) <= stored
        assert audit.verify().problem is None
        more = _spooled_lines(app, monkeypatch, tmp_path / "more.spool", 1)
        with open(spool, "ab") as out:
            out.write(more[0])
        assert ingester.step() == 1  # the writer goes on
        assert json.loads(more[0])["entries"][0][0] in {e["id"] for e in store_decisions.walk()}
        ingester.close(remove=True)
    rejected = tmp_path / "authz.db-log-poison.spool.rejected"
    assert stat.S_IMODE(os.stat(rejected).st_mode) == 0o600
    kept = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert [k["record"] for k in kept] == [json.loads(b) for b in bad]
    assert all(k["error"] for k in kept)
    assert _rejected_count() == before + 2


def test_an_unavailable_store_is_retried_not_rejected(app, tmp_path, monkeypatch):
    """A failure that is not about the values (here: the decision table is gone) sets nothing
    aside: the records stay in the spool and are stored once the table is back."""
    spool = tmp_path / "authz.db-log-gone.spool"
    good = _spooled_lines(app, monkeypatch, spool, 3)
    spool.write_bytes(b"".join(good))
    with store.connection():
        store.database.execute_sql('ALTER TABLE "decision" RENAME TO "decision_away"')
        ingester = log_ingest.Ingester(str(spool), dedupe=False)
        try:
            ingester.step()
            raise AssertionError("stored into a missing table")
        except Exception as exc:
            assert not log_rejected.refused_for_values(exc)
        store.database.execute_sql('ALTER TABLE "decision_away" RENAME TO "decision"')
        assert ingester.step() == 3
        assert audit.verify().problem is None
        ingester.close(remove=True)
    assert not (tmp_path / "authz.db-log-gone.spool.rejected").exists()
