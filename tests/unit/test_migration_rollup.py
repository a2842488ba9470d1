"""The Activity chart's rollup (decisions 042, 044): migration 13 counts the entries stored before
it, in chunks of seq; migration 14 sets its mark at the last entry; from then on the log writer
folds the entries after the mark in behind itself, and archiving takes out what it drops, folded
or not. Compared with a count made here, entry by entry."""

from collections import Counter
from datetime import datetime, timedelta

from prometheus_client import REGISTRY

from authz_service import store
from authz_service.log import audit, chain, checkpoints
from authz_service.store import activity_rollup, decisions, migrations
from authz_service.store import models as m
from tests.support import log_entries

T = datetime(2026, 3, 1, 12)
R = activity_rollup


def _rollup() -> Counter:
    rows = R.ActivityCount.select().tuples()
    return Counter({(kind, account, bucket, value): n for kind, account, bucket, value, n in rows})


def _expected(through: int | None = None) -> Counter:
    """(kind, account, bucket, value) -> entries of the live log up to `through` (all if None)."""
    query = m.Decision.select(m.Decision.at, m.Decision.user_email, m.Decision.account_id,
                              m.Decision.action, m.Decision.allowed)
    if through is not None:
        query = query.where(m.Decision.seq <= through)
    found: Counter = Counter()
    for at, user, account, action, allowed in query.tuples():
        hour, day = f"{at:%Y-%m-%d %H}", f"{at:%Y-%m-%d}"
        for where in {account or R.ALL, R.ALL}:
            found[R.ALLOWED if allowed else R.DENIED, where, hour, ""] += 1
            if not allowed:
                found[R.BY_ACTION, where, day, action or ""] += 1
                found[R.BY_USER, where, day, user or ""] += 1
    return found


def _entries(count: int, start: datetime, **changes) -> list[dict]:
    return [log_entries.entry(n, at=start + timedelta(minutes=37 * n),
                              account_id=("initech", "hooli")[n % 3 == 0], **changes) for n in range(count)]


def test_migration_13_backfills_the_rollup_in_chunks_and_14_marks_it(empty_url, monkeypatch):
    """Entries stored before 13 are counted by it, seven at a time; 14 marks the last of them;
    later ones wait for a fold, which counts them and moves the mark."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        monkeypatch.setattr(migrations, "MIGRATIONS", [s for s in migrations.MIGRATIONS if s[0] < 13])
        migrations.run(db)
        monkeypatch.undo()
        assert not R.is_kept()
        chain.append(_entries(40, T))
        monkeypatch.setattr(R, "CHUNK", 7)
        assert migrations.run(db)[:2] == [13, 14]
        assert len(_expected()) > 20 and _rollup() == _expected() and R.mark() == 40
        assert sum(n for (kind, account, _, _), n in _rollup().items() if account == R.ALL
                   and kind in (R.ALLOWED, R.DENIED)) == 40
        chain.append([log_entries.entry(n, at=T + timedelta(days=1), account_id=(None, "initech")[n % 2])
                      for n in range(5)])  # an entry with no account counts under every account, once
        assert _rollup() == _expected(40)  # the writer stores; it does not count
        assert decisions.fold_rollup(3) == (3, 2) and R.mark() == 43 and _rollup() == _expected(43)
        assert decisions.fold_rollup(100) == (2, 0) and decisions.fold_rollup(100) == (0, 0)
        assert _rollup() == _expected() and R.mark() == 45
    store.close()


def test_archiving_takes_out_what_it_drops_folded_or_not(app, tmp_path):
    """An archive cut past the mark (entries dropped before they were folded) and one behind
    it: either way the rollup is then the live log's, up to its mark, which never counts a
    dropped entry twice or an undropped one not at all."""
    log_entries.append(_entries(30, T))
    with store.connection():
        assert decisions.fold_rollup(10) == (10, 20)
        assert audit.archive(T + timedelta(hours=12), tmp_path / "a.jsonl") > 10  # cut past the mark
        start, _ = decisions.anchor()
        assert R.mark() == start and _rollup() == _expected(start) == Counter()  # nothing folded is left
        assert decisions.fold_rollup(10**6)[0] > 0 and _rollup() == _expected()
    log_entries.append(_entries(20, T + timedelta(days=2)))
    with store.connection():
        through = R.mark()
        assert audit.archive(T + timedelta(days=1), tmp_path / "b.jsonl") > 0  # cut behind the mark
        assert R.mark() == through and _rollup() == _expected(through)
        decisions.fold_rollup(10**6)
        assert _rollup() == _expected() and all(n > 0 for n in _rollup().values())
        R.ActivityCount.delete().execute()  # docs/security.md: emptied and marked 0, it is recounted
        R.set_mark(0)
        while decisions.fold_rollup(7)[0]:
            pass
        assert _rollup() == _expected() and R.mark() == _last()


def test_the_log_writers_clock_folds_a_chunk_a_tick_then_rests(app, tmp_path, monkeypatch):
    """The log writer's tick folds at most FOLD_MOST entries; while more are behind it folds again
    at the next tick, then rests a second; a tick while storing fails folds nothing; the lag
    gauge shows what is left after each fold."""
    settings = app.config["AUTHZ"]
    settings.log_key_file, settings.log_witness_dir = str(tmp_path / "log-key"), str(tmp_path / "witness")
    monkeypatch.setattr(checkpoints, "FOLD_MOST", 4)
    scheduler = checkpoints.Scheduler(settings)
    log_entries.append(_entries(10, T))
    with store.connection():
        first = R.mark()
        scheduler.tick("the database is gone")
        assert R.mark() == first
        for behind in (6, 2, 0):
            scheduler.tick("")
            assert _rollup() == _expected(R.mark()) and _last() - R.mark() == behind
            assert REGISTRY.get_sample_value("authz_log_rollup_lag_entries") == behind  # the gauge says so
        log_entries.append(_entries(3, T + timedelta(days=1)))
        scheduler.tick("")  # resting: caught up less than a second ago
        assert _last() - R.mark() == 3
        scheduler.fold_due = 0.0
        scheduler.tick("")
        assert R.mark() == _last() and _rollup() == _expected()


def _last() -> int:
    return m.Decision.select(m.Decision.seq).order_by(m.Decision.seq.desc()).limit(1).scalar()


def test_folds_of_two_writers_and_appends_at_once_count_each_entry_once(app):
    """Two folding threads (as two replicas' writers) and appends, interleaved: the mark's row
    makes folds take turns, so every entry is counted once, none twice."""
    import threading

    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            with store.connection():
                work()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def fold() -> None:
        for _ in range(40):
            decisions.fold_rollup(7)

    def store_entries() -> None:
        for n in range(20):
            chain.append(_entries(5, T + timedelta(hours=n)))

    threads = [threading.Thread(target=run, args=(w,)) for w in (fold, fold, store_entries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with store.connection():
        while decisions.fold_rollup(1000)[0]:
            pass
        assert R.mark() == _last() == 100 and _rollup() == _expected()
