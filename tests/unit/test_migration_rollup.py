"""Migration 13: the Activity chart's rollup is counted from the entries stored before it, in
chunks of seq, and the log writer keeps it from then on (decision 042)."""

from collections import Counter
from datetime import datetime, timedelta

from authz_service import store
from authz_service.log import chain
from authz_service.store import activity_rollup, migrations
from authz_service.store import models as m
from tests.support import log_entries

T = datetime(2026, 3, 1, 12)


def _rollup() -> Counter:
    rows = activity_rollup.ActivityCount.select().tuples()
    return Counter({(kind, account, bucket, value): n for kind, account, bucket, value, n in rows})


def _expected() -> Counter:
    rows = m.Decision.select(m.Decision.at, m.Decision.user_email, m.Decision.account_id,
                             m.Decision.action, m.Decision.allowed).tuples()
    return activity_rollup.counts(rows)


def test_migration_13_backfills_the_rollup_in_chunks_then_the_writer_keeps_it(empty_url, monkeypatch):
    """Entries stored before 13 are counted by it, seven at a time; later ones by the writer."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        monkeypatch.setattr(migrations, "MIGRATIONS", [s for s in migrations.MIGRATIONS if s[0] < 13])
        migrations.run(db)
        monkeypatch.undo()
        assert not activity_rollup.is_kept()
        chain.append([log_entries.entry(n, at=T + timedelta(minutes=37 * n), account_id=("initech", "hooli")[n % 3 == 0])
                      for n in range(40)])
        monkeypatch.setattr(activity_rollup, "CHUNK", 7)
        assert 13 in migrations.run(db)
        assert len(_expected()) > 20 and _rollup() == _expected()
        assert sum(n for (kind, account, _, _), n in _rollup().items() if account == activity_rollup.ALL
                   and kind in (activity_rollup.ALLOWED, activity_rollup.DENIED)) == 40
        chain.append([log_entries.entry(n, at=T + timedelta(days=1)) for n in range(5)])
        assert _rollup() == _expected()
    store.close()
