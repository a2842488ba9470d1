"""The decision log partitioned by month on PostgreSQL (migration 11; docs/decisions/
038-log-partitions.md): migration keeps every row and the chain (R7.4) and checkpoints (R7.6),
writes land in their month's partition, a month made late takes its rows from the default
partition, archiving drops whole months and the log still verifies."""

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.app import create_app
from authz_service.cli import main
from authz_service.config import Settings
from authz_service.log import checkpoints
from authz_service.store import decisions, migrations, partitions
from authz_service.store.models import database
from tests.support import backends
from tests.support.log_entries import append, entry

pytestmark = pytest.mark.skipif(not backends.PG_URL, reason="needs AUTHZ_TEST_POSTGRES_URL")


@pytest.fixture
def log_env(monkeypatch, tmp_path):
    """An emptied PostgreSQL for the CLI, with a log key and a witness folder; the witness folder."""
    url = backends.postgres_url(drop=True)
    monkeypatch.setenv("AUTHZ_DATABASE_URL", url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", str(tmp_path / "keys" / "log-key"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_DIR", str(tmp_path / "witness"))
    yield tmp_path / "witness"
    store.close()


def _app():
    return create_app({"database_url": backends.PG_URL, "bootstrap_key": "k" * 32, "policy_poll_seconds": 0},
                      migrate=True)


def _checkpoint() -> None:
    with store.connection():
        checkpoints.make(Settings.from_env())


def _verify(witness, *archives) -> tuple[int, str]:
    args = [a for path in archives for a in ("--archive", str(path))]
    done = CliRunner().invoke(main, ["log", "verify", "--checkpoint", str(witness), *args])
    return done.exit_code, done.output


def _where() -> dict[str, int]:
    """How many entries each partition holds."""
    with store.connection():
        rows = database.execute_sql('SELECT tableoid::regclass::text, COUNT(*) FROM "decision" GROUP BY 1')
        return dict(rows.fetchall())


def _at(*days: datetime) -> list[dict]:
    return [entry(n, at=day) for n, day in enumerate(days)]


def test_migration_11_keeps_every_row_the_chain_and_the_checkpoints(log_env, monkeypatch):
    """A version 10 log (plain table) with entries of two months and a checkpoint becomes
    partitioned: the same rows, each in its month, and verify --checkpoint passes (R7.4, R7.6)."""
    db = store.connect(backends.PG_URL, migrate=False)
    with store.connection(), monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [s for s in migrations.MIGRATIONS if s[0] < 11])
        migrations.run(db)
    append(_at(*(datetime(2026, 3, 31, 23, 59, n) for n in range(5))))
    append(_at(*(datetime(2026, 4, 1, 0, 0, n) for n in range(7))))
    _checkpoint()
    with store.connection():
        before = list(decisions.walk(0))
        assert not partitions.is_partitioned(db)
        assert migrations.run(db)[0] == 11  # and any later step
        assert partitions.is_partitioned(db)
        assert list(decisions.walk(0)) == before
    assert _where() == {"decision_2026_03": 5, "decision_2026_04": 7}
    code, out = _verify(log_env)
    assert code == 0 and "12 entries extend 1 checkpoints" in out, out
    append(_at(datetime(2026, 4, 2)))  # the chain goes on from the copied rows
    _checkpoint()
    code, out = _verify(log_env)
    assert code == 0 and "13 entries extend 2 checkpoints" in out, out


def test_writes_across_a_month_boundary_land_in_two_partitions(log_env, monkeypatch):
    """The writer makes this month's and the next month's partitions before it needs them
    (here months after the ones migration 11 made)."""
    _app()
    monkeypatch.setattr(partitions, "utcnow", lambda: datetime(2031, 5, 20))
    first = datetime(2031, 6, 1)
    append(_at(first - timedelta(seconds=1), first, first + timedelta(seconds=1)))
    assert _where() == {"decision_2031_05": 1, "decision_2031_06": 2}
    with store.connection():
        assert [e["seq"] for e in decisions.walk(0)] == [1, 2, 3]


def test_a_month_made_after_its_rows_takes_them_from_the_default_partition(log_env):
    """No insert fails for want of a partition: the default one holds the rows until their month
    is made, which moves them; nothing is lost and the chain verifies."""
    _app()
    append(_at(datetime(2020, 1, 5), datetime(2020, 2, 5), datetime(2020, 1, 6)))
    assert _where() == {"decision_default": 3}
    with store.connection(), database.atomic():
        partitions.add_month(database.obj, datetime(2020, 1, 1))
    assert _where() == {"decision_default": 1, "decision_2020_01": 2}
    _checkpoint()
    assert _verify(log_env)[0] == 0


def _archive(before: str, out) -> str:
    done = CliRunner().invoke(main, ["log", "archive", "--before", before, "--out", str(out)])
    assert done.exit_code == 0, done.output
    return done.output


def test_archive_drops_whole_months_and_the_log_still_verifies(log_env, tmp_path):
    """Retention: months wholly archived are dropped, not emptied row by row; the partly covered
    month loses its archived rows only; proofs and verify --checkpoint still pass (R7.6)."""
    _app()
    with store.connection(), database.atomic():
        for month in (1, 2, 3):
            partitions.add_month(database.obj, datetime(2026, month, 1))
    append(_at(*(datetime(2026, month, day) for month in (1, 2, 3) for day in (3, 20))))
    _checkpoint()
    assert "archived 5 entries" in _archive("2026-03-10", tmp_path / "old.jsonl")
    with store.connection():
        assert datetime(2026, 1, 1) not in partitions.months(database.obj)
        assert datetime(2026, 2, 1) not in partitions.months(database.obj)
    assert _where() == {"decision_2026_03": 1}
    append(_at(datetime(2026, 3, 25)))
    _checkpoint()
    code, out = _verify(log_env, tmp_path / "old.jsonl")
    assert code == 0 and "7 entries extend 2 checkpoints" in out, out


def test_a_month_holding_an_entry_after_the_archived_ones_is_kept(log_env, tmp_path):
    """Archiving stops at the first entry at or after the date, in chain order: an older month
    still holding a later entry (recorded out of time order) is not dropped; its entry stays."""
    _app()
    with store.connection(), database.atomic():
        for month in (2, 3):
            partitions.add_month(database.obj, datetime(2026, month, 1))
    append(_at(datetime(2026, 2, 10), datetime(2026, 3, 20), datetime(2026, 2, 11)))
    _checkpoint()
    assert "archived 1 entries" in _archive("2026-03-01", tmp_path / "old.jsonl")
    assert _where() == {"decision_2026_02": 1, "decision_2026_03": 1}
    assert _verify(log_env, tmp_path / "old.jsonl")[0] == 0


def test_a_month_blocked_by_a_reader_leaves_the_rows_in_the_default_partition(log_env, monkeypatch):
    """Making a month waits for readers of the default partition only so long: the batch is
    written anyway (into the default partition) and the next batch makes the month, moving them."""
    import psycopg

    _app()
    monkeypatch.setattr(partitions, "LOCK_WAIT", "200ms")
    monkeypatch.setattr(partitions, "utcnow", lambda: datetime(2031, 5, 20))
    with psycopg.connect(backends.PG_URL) as reader:
        reader.execute('SELECT * FROM "decision_default" LIMIT 1').fetchall()  # its lock, held till the end
        append(_at(datetime(2031, 5, 20)))
        assert _where() == {"decision_default": 1}
    append(_at(datetime(2031, 5, 21)))
    assert _where() == {"decision_2031_05": 2}
    with store.connection():
        assert [e["seq"] for e in decisions.walk(0)] == [1, 2]
