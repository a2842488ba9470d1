"""The decision log partitioned by month on PostgreSQL (R7.4, R7.6; migration 11,
docs/decisions/038-log-partitions.md): the conversion, the months' partitions made before
rows need them, and retention by dropping whole months. SQLite keeps one plain table.

Every unique constraint of a partitioned table holds the partition key: the primary key is
(id, at) and `seq` is unique with `at`. The chain's lock (decisions.chain_end) still makes
`seq` one global sequence, and `authz log verify` names a repeated or missing `seq`.
"""

import logging
import re
from datetime import datetime

import peewee as pw

from authz_service.store.models import database, utcnow

log = logging.getLogger(__name__)

DEFAULT = "decision_default"
_MONTH = re.compile(r"^decision_(\d{4})_(\d{2})$")
# The unpartitioned table's index names (peewee's), each now one index per partition.
INDEXES = {"decision_account_id_at_seq": ("account_id", "at", "seq"),
           "decision_user_email_at_seq": ("user_email", "at", "seq"),
           "decision_at_seq": ("at", "seq")}
# A month's partition is added inside a writer's transaction: it waits for readers of the
# default partition at most this long, then leaves the rows there and tries at the next batch.
LOCK_WAIT = "2s"
_ready: set[datetime] = set()  # months known to have their partition (or no partitioned table)


def forget() -> None:
    """A database was (re)connected: every month is checked again."""
    _ready.clear()


def month_of(at: datetime) -> datetime:
    return datetime(at.year, at.month, 1)


def next_month(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1)


def name(month: datetime) -> str:
    return f"decision_{month.year:04d}_{month.month:02d}"


def is_partitioned(db: pw.Database) -> bool:
    """True when `decision` is PostgreSQL's partitioned table (migration 11 ran)."""
    if isinstance(db, pw.SqliteDatabase):
        return False
    row = db.execute_sql("SELECT relkind FROM pg_class WHERE oid = to_regclass('decision')").fetchone()
    return row is not None and row[0] == "p"


def months(db: pw.Database) -> dict[datetime, str]:
    """The monthly partitions (not the default), by their first day."""
    rows = db.execute_sql("SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
                          "WHERE i.inhparent = 'decision'::regclass").fetchall()
    found = {}
    for (relname,) in rows:
        match = _MONTH.match(relname)
        if match:
            found[datetime(int(match[1]), int(match[2]), 1)] = relname
    return found


def _bounds(month: datetime) -> str:
    return f"FROM ('{month:%Y-%m-%d}') TO ('{next_month(month):%Y-%m-%d}')"


def add_month(db: pw.Database, month: datetime) -> None:
    """Make `month`'s partition; rows of that month the default partition caught move into it
    (in this transaction), so making a month later never fails and never loses a row."""
    part, low, high = name(month), f"{month:%Y-%m-%d}", f"{next_month(month):%Y-%m-%d}"
    db.execute_sql(f'CREATE TABLE "{part}" (LIKE "decision" INCLUDING DEFAULTS)')
    db.execute_sql(f'ALTER TABLE "{part}" ADD CONSTRAINT "{part}_month" '
                   f"CHECK (\"at\" >= '{low}' AND \"at\" < '{high}')")  # ATTACH then skips its scan
    db.execute_sql(f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE "at" >= \'{low}\' AND "at" < \'{high}\' '
                   f'RETURNING *) INSERT INTO "{part}" SELECT * FROM moved')
    db.execute_sql(f'ALTER TABLE "decision" ATTACH PARTITION "{part}" FOR VALUES {_bounds(month)}')


def convert(db: pw.Database) -> None:
    """Migration 11: `decision` becomes partitioned by month of `at`, every row copied over
    (in the migration's transaction, under its lock), the same indexes on each partition."""
    db.execute_sql('ALTER TABLE "decision" RENAME TO "decision_v10"')
    db.execute_sql('CREATE TABLE "decision" (LIKE "decision_v10" INCLUDING DEFAULTS) PARTITION BY RANGE ("at")')
    db.execute_sql(f'CREATE TABLE "{DEFAULT}" PARTITION OF "decision" DEFAULT')
    stored = db.execute_sql("SELECT DISTINCT date_trunc('month', \"at\") FROM \"decision_v10\"").fetchall()
    now = month_of(utcnow())
    for month in sorted({month_of(row[0]) for row in stored} | {now, next_month(now)}):
        db.execute_sql(f'CREATE TABLE "{name(month)}" PARTITION OF "decision" FOR VALUES {_bounds(month)}')
    db.execute_sql('INSERT INTO "decision" SELECT * FROM "decision_v10"')
    db.execute_sql('DROP TABLE "decision_v10"')
    db.execute_sql('ALTER TABLE "decision" ADD CONSTRAINT "decision_pkey" PRIMARY KEY ("id", "at")')
    db.execute_sql('CREATE UNIQUE INDEX "decision_seq" ON "decision" ("seq", "at")')
    for index, columns in INDEXES.items():
        listed = ", ".join(f'"{column}"' for column in columns)
        db.execute_sql(f'CREATE INDEX "{index}" ON "decision" ({listed})')


def ensure() -> None:
    """In a writer's transaction, under the chain's lock: this month's and the next month's
    partitions exist. Checked once a month per process (in memory); cheap otherwise."""
    now = month_of(utcnow())
    if now in _ready:
        return
    if not is_partitioned(database.obj):
        _ready.add(now)
        return
    have = months(database.obj)
    try:
        with database.atomic():  # a savepoint: a wait given up undoes this alone
            database.execute_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            for month in (now, next_month(now)):
                if month not in have:
                    add_month(database.obj, month)
            database.execute_sql("SET LOCAL lock_timeout = DEFAULT")
    except pw.DatabaseError as exc:  # lock_timeout, or any refusal: the default partition keeps the rows for now
        log.warning("the decision log's partition for %s is not made yet: %s", f"{now:%Y-%m}", exc)
        return
    _ready.add(now)


def drop_archived(before: datetime, through_seq: int) -> list[str]:
    """Retention, inside the chain's lock: drop each monthly partition that ends by `before`
    and holds no entry after `through_seq` (all archived); the tables dropped."""
    dropped = []
    for month, part in sorted(months(database.obj).items()):
        if next_month(month) > before:
            break
        top = database.execute_sql(f'SELECT MAX("seq") FROM "{part}"').fetchone()[0]
        if top is None or top <= through_seq:
            database.execute_sql(f'DROP TABLE "{part}"')
            dropped.append(part)
    if dropped:
        forget()  # a month dropped ahead of time is made again by the next writer
    return dropped
