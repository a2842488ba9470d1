"""Migration 9: links may end (R10.1); links made before it keep no end and still count."""

from datetime import datetime, timedelta

import peewee as pw

from authz_service import store
from authz_service.decide.gather import gather
from authz_service.store import links, migrations
from authz_service.store import models as m

T = datetime(2026, 1, 2, 3, 4, 5)


class V8Link(pw.Model):
    """The link table as versions before 9 made it: no end."""

    user = pw.ForeignKeyField(m.User, on_delete="CASCADE", column_name="user_email")
    customer = pw.ForeignKeyField(m.Account, on_delete="CASCADE", index=True)
    group = pw.CharField(max_length=32, column_name="grp")
    linked_at = pw.DateTimeField()

    class Meta:
        database = m.database
        table_name = "link"
        primary_key = pw.CompositeKey("user", "customer")


def _before_version_9(db, monkeypatch) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", [s for s in migrations.MIGRATIONS if s[0] < 9])
    migrations.run(db)
    monkeypatch.undo()
    db.drop_tables([m.Link])
    db.create_tables([V8Link])
    m.Account.create(id="p", kind="partner", name="P")
    m.Account.create(id="c", kind="customer", name="C", partner="p")
    m.User.create(email="lee@p.example", account="p", group="regular")
    V8Link.create(user="lee@p.example", customer="c", group="read_only", linked_at=T)


def test_migration_9_keeps_old_links_counting_and_lets_new_ones_end(empty_url, monkeypatch):
    """An old link survives with no end and still counts; afterwards a link may carry an end."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        _before_version_9(db, monkeypatch)
        assert "expires_at" not in {c.name for c in db.get_columns("link")}
        assert 9 in migrations.run(db)
        assert migrations.run(db) == []
        assert links.get_link("lee@p.example", "c") == {"email": "lee@p.example", "group": "read_only",
                                                         "linked_at": T, "expires_at": None}
        assert gather("lee@p.example", "c").facts.link_group == "read_only"
        ends = m.utcnow() + timedelta(hours=1)
        m.Link.update(expires_at=ends).execute()
        assert links.get_link("lee@p.example", "c")["expires_at"] == ends
        assert "link_expires_at" in {i.name for i in db.get_indexes("link")}
    store.close()
