"""Versioned, forward-only schema migrations, run by an explicit step under a lock.

`authz db migrate`, the `authz serve` master before it forks its workers, `authz worker`, the
one-off commands, and create_app only when asked (tests, dev) call `run`; concurrent runs
(replicas starting together) queue on the migration lock, so each version is applied once
(docs/decisions/023-start-up.md).

Longer than 200 lines: the schema's whole history, one small step per version, read in order.
"""

from contextlib import contextmanager

import peewee as pw

from authz_service.store import (
    activity_rollup,
    decisions,
    facts_cache,
    kept_facts,
    link_ends,
    log_tree,
    partitions,
    summary_schema,
)
from authz_service.store import models as m


def _v1_initial(db: pw.Database) -> None:
    """The directory, links, view sessions, API keys and the decision log."""
    db.create_tables([m.Account, m.User, m.Link, m.ViewSession, m.Invite, m.ApiKey, m.Decision, m.Setting,
                      m.Contact, m.Notification])
    db.create_tables([m.LogHead])  # the decision log's chain head (R7.4)
    db.create_tables([m.Service])  # the Customers page (R5): services and their figures
    summary_schema.create(db)


def _v2_facts_cache(db: pw.Database) -> None:
    """Numbered changes to the facts a decision reads, and the holders' leases (R4.6;
    docs/decisions/011-facts-cache.md). The trigger only on PostgreSQL: the cache runs only there."""
    db.create_tables([m.FactsEpoch, m.FactsHolder])
    m.FactsEpoch.insert(id=1, epoch=0).execute()
    if not isinstance(db, pw.SqliteDatabase):
        facts_cache.install_triggers(db)


def _v3_log_altered(db: pw.Database) -> None:
    """`decision.altered`: a value of the entry was cleaned or cut to be storable (R7.4;
    docs/decisions/013-log-values.md). A constant default: no rewrite of the log's rows."""
    if any(c.name == "altered" for c in db.get_columns("decision")):
        return  # created by _v1_initial from today's model
    kind, default = ("INTEGER", "0") if isinstance(db, pw.SqliteDatabase) else ("BOOLEAN", "FALSE")
    db.execute_sql(f'ALTER TABLE "decision" ADD COLUMN "altered" {kind} NOT NULL DEFAULT {default}')


def _v5_console_sessions(db: pw.Database) -> None:
    """Console sessions kept server-side (deleted at sign-out); the console's cookie-signing
    secret leaves the database for a file beside it (docs/decisions/015-console-trust.md)."""
    db.create_tables([m.ConsoleSession])
    m.Setting.delete().where(m.Setting.key == "secret:console-session").execute()


def _v4_service_ids_per_customer(db: pw.Database) -> None:
    """A service id is unique per customer, not service-wide, so "already exists" confirms nothing
    about another tenant (docs/decisions/016-hostile-input.md). Every row is kept."""
    table = m.Service._meta.table_name
    if isinstance(db, pw.SqliteDatabase):  # SQLite cannot change a primary key: rebuild the table
        db.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{table}_v3"')
        db.execute_sql(f'DROP INDEX IF EXISTS "{table}_customer_id_deleted_at"')
        db.create_tables([m.Service])
        columns = ", ".join(f'"{f.column_name}"' for f in m.Service._meta.sorted_fields)
        db.execute_sql(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{table}_v3"')
        db.execute_sql(f'DROP TABLE "{table}_v3"')
        return
    (constraint,) = db.execute_sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
        (f'"{table}"',)).fetchone()
    db.execute_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}", '
                   f'ADD PRIMARY KEY ("customer_id", "id")')


def _v6_users_by_group(db: pw.Database) -> None:
    """Users by (home account, group): who can act on a customer reads a partner's admins (R4.1,
    R10.3) without reading its every user (docs/performance.md "Who can act")."""
    db.execute_sql('CREATE INDEX IF NOT EXISTS "user_account_id_grp" ON "user" ("account_id", "grp")')


def _v7_log_tree(db: pw.Database) -> None:
    """The Merkle tree over the log (R7.6; docs/decisions/030-signed-checkpoints.md): each entry's
    leaf index and hash, computed here for stored entries in chain order, and the tree's edge
    and stored subtree roots (left empty: the first append rebuilds them from the stored leaves)."""
    if not any(c.name == "leaf_hash" for c in db.get_columns("decision")):
        db.execute_sql('ALTER TABLE "decision" ADD COLUMN "leaf_index" BIGINT')
        db.execute_sql('ALTER TABLE "decision" ADD COLUMN "leaf_hash" VARCHAR(64)')
    db.create_tables([m.LogTree, m.LogNode], safe=True)
    base, _, _ = log_tree.state()  # entries archived before the tree existed precede leaf 0
    log_tree.backfill(base)


def _v8_decision_facts(db: pw.Database) -> None:
    """`decision.facts` and `decision.policy_version`: what the policy decided from and which
    policy decided (R9.7; docs/decisions/033-decision-facts-and-replay.md). Nullable, no default:
    no rewrite of the log's rows, and an entry without them hashes exactly as before."""
    present = {c.name for c in db.get_columns("decision")}
    for name, size in (("facts", 200), ("policy_version", 64)):
        if name not in present:  # created by _v1_initial from today's model otherwise
            db.execute_sql(f'ALTER TABLE "decision" ADD COLUMN "{name}" VARCHAR({size})')


def _v9_link_ends(db: pw.Database) -> None:
    """R10.1: a link may end (`expires_at`, microseconds since the epoch, null: never) and the log
    entry recording its end is claimed before it is written (`end_entry`); old links keep no end
    (docs/decisions/035-time-bound-access.md). Indexed by end, for the sweeper."""
    if not any(c.name == "expires_at" for c in db.get_columns("link")):
        db.execute_sql('ALTER TABLE "link" ADD COLUMN "expires_at" BIGINT')
        db.execute_sql('ALTER TABLE "link" ADD COLUMN "end_entry" VARCHAR(32)')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "link_expires_at" ON "link" ("expires_at")')


def _v10_access_requests(db: pw.Database) -> None:
    """R10.2: requests for access, by partner and status (docs/decisions/035-time-bound-access.md)."""
    db.create_tables([m.AccessRequest], safe=True)


def _v11_partition_log(db: pw.Database) -> None:
    """PostgreSQL: the decision log partitioned by month of `at`, every row kept, so retention
    drops whole months (docs/decisions/038-log-partitions.md). SQLite: nothing to do (recorded)."""
    if not isinstance(db, pw.SqliteDatabase) and not partitions.is_partitioned(db):
        partitions.convert(db)
    partitions.forget()


def _v12_log_tree_levels(db: pw.Database) -> None:
    """The tree keeps subtree roots every 4 levels, not 8 (R7.6; a proof reads ~log2 n rows; see
    docs/decisions/039-inclusion-proof-reads.md): the new levels of a stored tree, from its leaves."""
    log_tree.keep_levels(4)  # log/merkle.py's STRIDE as of this version


def _v13_rollup_and_link_ends(db: pw.Database) -> None:
    """The Activity chart's rollup, counted from every live entry in chunks; and each link's end
    recorded once, keyed by link and end (R7.3, R10.1; decision 042)."""
    db.create_tables([activity_rollup.ActivityCount, link_ends.LinkEnd], safe=True)
    activity_rollup.backfill()


def _v14_rollup_mark(db: pw.Database) -> None:
    """The rollup is folded in behind the log writer up to a mark (decision 044); the writer
    kept it up to the last entry until now, so the mark starts there."""
    db.create_tables([activity_rollup.RolledThrough], safe=True)
    with decisions.chain_end() as (seq, _):  # no entry is stored meanwhile
        activity_rollup.set_mark(seq)


def _v15_sqlite_facts_epoch(db: pw.Database) -> None:
    """SQLite's triggers on the tables a decision reads, numbering each change in facts_epoch as
    migration 2's do on PostgreSQL: each thread keeps facts and keys while it is unchanged
    (R4.6; store/kept_facts.py, decision 048)."""
    if isinstance(db, pw.SqliteDatabase):
        kept_facts.install_triggers(db)


MIGRATIONS = [(1, _v1_initial), (2, _v2_facts_cache), (3, _v3_log_altered),
              (4, _v4_service_ids_per_customer), (5, _v5_console_sessions), (6, _v6_users_by_group),
              (7, _v7_log_tree), (8, _v8_decision_facts), (9, _v9_link_ends), (10, _v10_access_requests),
              (11, _v11_partition_log), (12, _v12_log_tree_levels), (13, _v13_rollup_and_link_ends),
              (14, _v14_rollup_mark), (15, _v15_sqlite_facts_epoch)]


def current_version(db: pw.Database) -> int:
    """The highest applied version, 0 on an empty database."""
    if not db.table_exists(m.SchemaVersion._meta.table_name):
        return 0
    top = m.SchemaVersion.select(pw.fn.MAX(m.SchemaVersion.version)).scalar()
    return top or 0


def is_applied(db: pw.Database, version: int) -> bool:
    """True when this version's step has run (versions merged out of order still run)."""
    return m.SchemaVersion.select().where(m.SchemaVersion.version == version).exists()


# pg_advisory_lock's key for migrations: any constant that no other lock of this database uses.
ADVISORY_KEY = 0x617574687A6D6967  # "authzmig"


@contextmanager
def _migration_lock(db: pw.Database):
    """Hold the database-wide migration lock while migrating; a second migrator waits for it.

    PostgreSQL: a session advisory lock on this connection (released by the server too when
    the connection dies). SQLite: one BEGIN IMMEDIATE transaction around the whole run, the
    file's write lock; each step is a savepoint in it.
    """
    if isinstance(db, pw.SqliteDatabase):
        with db.atomic("IMMEDIATE"):
            yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
    try:
        yield
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))


def run(db: pw.Database) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction (a savepoint
    on SQLite), under the migration lock; the versions this call applied."""
    with _migration_lock(db):
        db.create_tables([m.SchemaVersion], safe=True)
        applied = []
        for version, step in MIGRATIONS:
            with db.atomic():
                if is_applied(db, version):
                    continue
                step(db)
                m.SchemaVersion.create(version=version)
                applied.append(version)
    return applied
