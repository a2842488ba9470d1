"""Indexes and triggers of the Customers page figures (docs/decisions/004).

One index per sortable column and direction, each ending in (name, customer_id),
so every page of every sort is a range read of 50 index entries whatever the size
of the partner. Triggers give every customer account its figures row, and keep
its name, in the transaction that creates or renames the account, whichever
code (invites, the directory, fixtures, bulk loads) does it.
"""

import peewee as pw

from authz_service.store.models import Account, CustomerFigures
from authz_service.store.summary import SORTABLE

TABLE = CustomerFigures._meta.table_name
ACCOUNT = Account._meta.table_name
NEW_ROW = (f"INSERT INTO {TABLE} (customer_id, partner_id, name, mrr_cents, ports, vcs, cloud) "
           "VALUES (NEW.id, NEW.partner_id, NEW.name, 0, 0, 0, 0)")


def _indexes() -> list[str]:
    made = [f"CREATE INDEX IF NOT EXISTS {TABLE}_by_name ON {TABLE} (partner_id, name, customer_id)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_due ON {TABLE} (partner_id, next_billing_at)"]
    for column in SORTABLE:
        made.append(f"CREATE INDEX IF NOT EXISTS {TABLE}_{column}_up "
                    f"ON {TABLE} (partner_id, {column}, name, customer_id)")
        made.append(f"CREATE INDEX IF NOT EXISTS {TABLE}_{column}_down "
                    f"ON {TABLE} (partner_id, (-{column}), name, customer_id)")
    return made


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {TABLE}_new AFTER INSERT ON {ACCOUNT} "
        f"WHEN NEW.kind = 'customer' BEGIN {NEW_ROW}; END",
        f"CREATE TRIGGER IF NOT EXISTS {TABLE}_rename AFTER UPDATE OF name ON {ACCOUNT} "
        f"WHEN NEW.kind = 'customer' BEGIN "
        f"UPDATE {TABLE} SET name = NEW.name WHERE customer_id = NEW.id; END",
    ]


def _postgres_triggers() -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {TABLE}_sync() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF NEW.kind = 'customer' THEN {NEW_ROW} "
        f"ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name; END IF; RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS {TABLE}_sync ON {ACCOUNT}",
        f"CREATE TRIGGER {TABLE}_sync AFTER INSERT OR UPDATE OF name ON {ACCOUNT} "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_sync()",
    ]


def create(db: pw.Database) -> None:
    """Create the figures table, its indexes and triggers (part of the v1 schema).

    On SQLite the table is WITHOUT ROWID: a page reads each linked customer's row with
    one lookup by customer id instead of two (the id index, then the row).
    """
    is_sqlite = isinstance(db, pw.SqliteDatabase)
    CustomerFigures._meta.without_rowid = is_sqlite
    try:
        db.create_tables([CustomerFigures])
    finally:
        CustomerFigures._meta.without_rowid = False
    triggers = _sqlite_triggers() if is_sqlite else _postgres_triggers()
    for statement in _indexes() + triggers:
        db.execute_sql(statement)
