"""Migration 4: service ids unique per customer, every existing row kept (docs/decisions/016)."""

from datetime import datetime

import peewee as pw
import pytest

from authz_service import store
from authz_service.store import migrations
from authz_service.store import models as m

T = datetime(2026, 1, 2, 3, 4, 5)


class V3Service(pw.Model):
    """The service table as versions before 4 made it: its id unique service-wide."""

    id = pw.CharField(primary_key=True, max_length=64)
    customer = pw.ForeignKeyField(m.Account, on_delete="CASCADE", index=False)
    kind = pw.CharField(max_length=32)
    monthly_price_cents = pw.BigIntegerField()
    ordered_at = m.MicrosField()
    billing_starts_at = m.MicrosField(null=True)
    created_at = m.MicrosField()
    deleted_at = m.MicrosField(null=True)

    class Meta:
        database = m.database
        table_name = "service"
        indexes = ((("customer", "deleted_at"), False),)


def _at_version_3(db, monkeypatch) -> None:
    """Migrations up to 3, with the service table in its old shape."""
    monkeypatch.setattr(migrations, "MIGRATIONS", [s for s in migrations.MIGRATIONS if s[0] < 4])
    migrations.run(db)
    monkeypatch.undo()
    db.drop_tables([m.Service])
    db.create_tables([V3Service])
    m.Account.create(id="p", kind="partner", name="P")
    m.Account.insert_many([{"id": "c1", "kind": "customer", "name": "C1", "partner": "p"},
                           {"id": "c2", "kind": "customer", "name": "C2", "partner": "p"}]).execute()
    V3Service.insert_many([
        {"id": "port-1", "customer": "c1", "kind": "port", "monthly_price_cents": 100,
         "ordered_at": T, "billing_starts_at": None, "created_at": T, "deleted_at": None},
        {"id": "vc-9", "customer": "c2", "kind": "virtual_circuit", "monthly_price_cents": 0,
         "ordered_at": T, "billing_starts_at": T, "created_at": T, "deleted_at": T},
    ]).execute()


def test_migration_4_keeps_every_service_and_scopes_ids_per_customer(empty_url, monkeypatch):
    """The rows survive with every column; afterwards c2 may use c1's id, c1 still may not."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        _at_version_3(db, monkeypatch)
        assert 4 in migrations.run(db)
        rows = {(r.customer_id, r.id): r for r in m.Service.select()}
        assert set(rows) == {("c1", "port-1"), ("c2", "vc-9")}
        assert rows["c1", "port-1"].monthly_price_cents == 100 and rows["c1", "port-1"].ordered_at == T
        assert rows["c2", "vc-9"].deleted_at == T and rows["c2", "vc-9"].billing_starts_at == T
        m.Service.create(id="port-1", customer="c2", kind="port", monthly_price_cents=5,
                         ordered_at=T, created_at=T)
        with pytest.raises(pw.IntegrityError), db.atomic():
            m.Service.create(id="port-1", customer="c1", kind="port", monthly_price_cents=5,
                             ordered_at=T, created_at=T)
        assert ["customer_id", "deleted_at"] in [i.columns for i in db.get_indexes("service")]
    store.close()


def test_a_migration_merged_below_the_newest_applied_one_still_runs(empty_url, monkeypatch):
    """A database that ran 5 before 4 existed gets 4 on the next start (not skipped by "max")."""
    db = store.connect(empty_url, migrate=False)
    with store.connection():
        _at_version_3(db, monkeypatch)
        monkeypatch.setattr(migrations, "MIGRATIONS", [s for s in migrations.MIGRATIONS if s[0] != 4])
        migrations.run(db)
        monkeypatch.undo()
        assert migrations.run(db) == [4]
    store.close()
