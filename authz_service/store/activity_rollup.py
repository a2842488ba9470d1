"""The Activity chart's rollup (R7.3; decisions 036, 042): the log's entries counted per hour,
account and outcome, and its denials per day, account and action or user, kept by the log
writer in the transaction that stores the entries and taken back by archiving in the one that
drops them, so the counts always equal the live log's.

Rows hold one account's counts, or every account's (`account` ALL). A chart reads a few
hundred rows instead of counting the log; filters the rollup does not hold (a user, an action,
free text, a time that is not a whole UTC day) are counted from the log (log/activity_stats.py).
"""

import operator
import weakref
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

import peewee as pw

from authz_service.store.models import BaseModel, Decision, database
from authz_service.store.rows import tuples

ALL = ""  # the row of every account (an entry's account id is never empty: it could not be decided)
ALLOWED, DENIED, BY_ACTION, BY_USER = "allowed", "denied", "action", "user"
CHUNK = 20_000  # entries read at a time by the backfill and by archiving


class ActivityCount(BaseModel):
    """Entries of one kind in one bucket ("YYYY-MM-DD HH" for outcomes, "YYYY-MM-DD" for
    denials per action or user), for one account or every account (migration 13)."""

    kind = pw.CharField(max_length=8)
    account = pw.TextField()
    bucket = pw.CharField(max_length=13)
    value = pw.TextField()  # the action or user of a denial; "" for outcomes
    entries = pw.BigIntegerField()

    class Meta:
        table_name = "activity_count"
        primary_key = pw.CompositeKey("account", "kind", "bucket", "value")


def _hour(at) -> str:
    """"YYYY-MM-DD HH" of a stored time (SQLite keeps it as text, PostgreSQL as a datetime)."""
    return at.strftime("%Y-%m-%d %H") if isinstance(at, datetime) else str(at)[:13].replace("T", " ")


def counts(entries: Iterable[tuple]) -> Counter:
    """(kind, account, bucket, value) -> entries, for (at, user, account, action, allowed) rows."""
    found: Counter = Counter()
    for at, user, account, action, allowed in entries:
        hour = _hour(at)
        for where in {account or ALL, ALL}:
            found[ALLOWED if allowed else DENIED, where, hour, ""] += 1
            if not allowed:
                found[BY_ACTION, where, hour[:10], action or ""] += 1
                found[BY_USER, where, hour[:10], user or ""] += 1
    return found


# One statement a batch, not peewee's insert_many: a batch of 1,000 entries makes ~2,000 rollup
# rows (denials by user and action), whose query building cost the writer ~10x its own CPU an entry.
_UPSERT = ('INSERT INTO "activity_count" ("kind", "account", "bucket", "value", "entries") {rows} '
           'ON CONFLICT ("account", "kind", "bucket", "value") '
           'DO UPDATE SET "entries" = "activity_count"."entries" + EXCLUDED."entries"')
_SQLITE_ROWS = "VALUES (?, ?, ?, ?, ?)"
_POSTGRES_ROWS = "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[])"


def add(entries: Iterable[tuple], sign: int = 1) -> None:
    """Count (at, user, account, action, allowed) rows in (sign 1) or out (-1, archiving); called
    inside the transaction that stores or drops them. Rows in key order (one lock order)."""
    rows = sorted((k, a, b, v, sign * n) for (k, a, b, v), n in counts(entries).items())
    if not rows:
        return
    db = database.obj
    if isinstance(db, pw.SqliteDatabase):
        db.cursor().executemany(_UPSERT.format(rows=_SQLITE_ROWS), rows)
    else:
        db.execute_sql(_UPSERT.format(rows=_POSTGRES_ROWS), [list(column) for column in zip(*rows, strict=True)])
    if sign < 0:
        ActivityCount.delete().where(ActivityCount.entries <= 0).execute()


def _columns():
    return Decision.select(Decision.at, Decision.user_email, Decision.account_id, Decision.action, Decision.allowed)


def add_range(after: int, through: int, sign: int = 1) -> None:
    """Count the stored entries after < seq <= through in or out, CHUNK at a time."""
    while after < through:
        upto = min(after + CHUNK, through)
        add(tuples(_columns().where((Decision.seq > after) & (Decision.seq <= upto))), sign)
        after = upto


def backfill() -> None:
    """Migration 13: the rollup of every live entry, read in chunks of seq."""
    ((low, high),) = tuples(Decision.select(pw.fn.MIN(Decision.seq), pw.fn.MAX(Decision.seq)))
    if low is not None:
        add_range(low - 1, high)


def _within(filters: dict, width: int) -> list:
    """The buckets of [since, until): whole UTC days, so hour and day buckets cut alike."""
    where = []
    for name, compare in (("since", operator.ge), ("until", operator.lt)):
        at = filters.get(name)
        if at is not None:
            at = at.astimezone(UTC) if at.tzinfo is not None else at
            where.append(compare(ActivityCount.bucket, at.strftime("%Y-%m-%d %H")[:width]))
    return where


def outcomes(filters: dict) -> list[tuple[str, bool, int]]:
    """("YYYY-MM-DD HH", allowed, entries) of the filter's account (or every account)."""
    kinds = {None: (ALLOWED, DENIED), True: (ALLOWED,), False: (DENIED,)}[filters.get("allowed")]
    query = (ActivityCount.select(ActivityCount.bucket, ActivityCount.kind, ActivityCount.entries)
             .where(ActivityCount.account == (filters.get("account_id") or ALL), ActivityCount.kind.in_(kinds),
                    *_within(filters, 13)))
    return [(bucket, kind == ALLOWED, int(n)) for bucket, kind, n in tuples(query)]


def denials(filters: dict, kind: str) -> list[tuple[str, int]]:
    """(action or user, denials) of the filter's account (or every account), summed over its days."""
    if filters.get("allowed") is True:
        return []
    total = pw.fn.SUM(ActivityCount.entries)
    query = (ActivityCount.select(ActivityCount.value, total)
             .where(ActivityCount.account == (filters.get("account_id") or ALL), ActivityCount.kind == kind,
                    *_within(filters, 10))
             .group_by(ActivityCount.value))
    return [(value, int(n)) for value, n in tuples(query) if n]


_KEPT: "weakref.WeakKeyDictionary[pw.Database, bool]" = weakref.WeakKeyDictionary()


def is_kept() -> bool:
    """Whether this database has the rollup (migration 13 applied): one catalog lookup until it
    has (a table no step removes), then none."""
    db = database.obj
    if _KEPT.get(db):
        return True
    if isinstance(db, pw.SqliteDatabase):
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'activity_count'"
    else:
        sql = "SELECT 1 WHERE to_regclass('activity_count') IS NOT NULL"
    kept = database.execute_sql(sql).fetchone() is not None
    if kept:
        _KEPT[db] = True
    return kept
