"""Schema migrations: versioned, forward only, from an empty database and from every earlier version."""

import threading
import time

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.store import migrations
from authz_service.store.models import SchemaVersion, database


def schema(db) -> dict:
    return {t: sorted(c.name for c in db.get_columns(t)) for t in sorted(db.get_tables())}


def test_from_empty_to_latest(empty_url):
    """An empty database reaches the latest version; running again applies nothing."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        assert migrations.current_version(db) == 0
        applied = migrations.run(db)
        assert applied == [v for v, _ in migrations.MIGRATIONS]
        assert migrations.run(db) == []
        assert migrations.current_version(db) == migrations.MIGRATIONS[-1][0]
        assert "account" in db.get_tables() and "decision" in db.get_tables()
    store.close()


@pytest.mark.parametrize("start", range(len(migrations.MIGRATIONS) + 1))
def test_from_each_earlier_version(empty_url, start, monkeypatch):
    """A database left at version `start` migrates to the same schema as an empty one."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:start])
        migrations.run(db)
        monkeypatch.undo()
        migrations.run(db)
        upgraded = schema(db)
        for table in reversed(db.get_tables()):
            database.execute_sql(f'DROP TABLE "{table}"' + (" CASCADE" if "postgres" in empty_url else ""))
        migrations.run(db)
        assert schema(db) == upgraded
    store.close()


def test_db_migrate_command(database_url, monkeypatch):
    """`authz db migrate` applies what is pending and says where the schema is."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    first = CliRunner().invoke(main, ["db", "migrate"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(main, ["db", "migrate"])
    assert "applied nothing" in second.output


def test_two_migrators_at_once_apply_each_version_once(empty_url, monkeypatch):
    """Two migrators on their own connections start together on an empty database (replicas
    starting at once): both succeed and each version is applied once, by one of them (the
    migration lock: docs/decisions/023-start-up.md)."""
    db = store.connect(empty_url)  # binds only: nothing is migrated yet
    first_step = migrations.MIGRATIONS[0][1]

    def slow_first_step(d):
        time.sleep(0.3)  # the other migrator reaches its own check meanwhile
        first_step(d)

    monkeypatch.setattr(migrations, "MIGRATIONS", [(1, slow_first_step), *migrations.MIGRATIONS[1:]])
    start, applied, errors = threading.Barrier(2), [], []

    def migrate():
        try:
            with db.connection_context():
                start.wait()
                applied.append(migrations.run(db))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    everything = [v for v, _ in migrations.MIGRATIONS]
    assert sorted(applied) == [[], everything]
    with store.connection():
        assert sorted(SchemaVersion.select(SchemaVersion.version).tuples()) == [(v,) for v in everything]
    store.close()
