"""Schema migrations: versioned, forward only, from an empty database and from every earlier version."""

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.store import migrations
from authz_service.store.models import database


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
