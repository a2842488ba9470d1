"""The Activity chart's rollup (R7.3; decisions 036, 042, 044): the log's entries counted per hour,
account and outcome, and its denials per day, account and action or user, for every entry up to
a mark (`seq`). The log writer folds the entries stored since the mark in behind itself, a few
thousand at a time, in one SQL statement each; archiving takes out what it drops in the
transaction that drops it. A chart reads the rollup and counts only the entries after the mark
from the log (log/activity_stats.py), so its counts always equal the live log's.

Rows hold one account's counts, or every account's (`account` ALL). A chart reads a few
hundred rows instead of counting the log; filters the rollup does not hold (a user, an action,
free text, a time that is not a whole UTC day) are counted from the log.
"""

import operator
import weakref
from datetime import UTC

import peewee as pw

from authz_service.give_way import give_way
from authz_service.store.models import BaseModel, Decision, database
from authz_service.store.rows import tuples

ALL = ""  # the row of every account (an entry's account id is never empty: it could not be decided)
ALLOWED, DENIED, BY_ACTION, BY_USER = "allowed", "denied", "action", "user"
CHUNK = 100_000  # entries counted a statement by the backfill and by archiving
FOLD_CHUNK = 40  # by the log writer's fold: ~0.3 ms a statement (7-8 µs an entry), ~10% more in all


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


class RolledThrough(BaseModel):
    """The rollup's mark: it counts every live entry with seq <= `through` (migration 14)."""

    id = pw.IntegerField(primary_key=True)  # always 1
    through = pw.BigIntegerField()

    class Meta:
        table_name = "activity_rolled"


# Each entry counted in up to six rows, grouped in the database: (dim 0) its outcome per hour,
# (1) its action and (2) its user per day if denied; for every account (mine 0) and its own (1).
_COUNT = """INSERT INTO "activity_count" ("kind", "account", "bucket", "value", "entries")
SELECT CASE x.dim WHEN 0 THEN (CASE WHEN d.allowed THEN 'allowed' ELSE 'denied' END)
                  WHEN 1 THEN 'action' ELSE 'user' END,
       CASE x.mine WHEN 1 THEN d.account_id ELSE '' END,
       CASE x.dim WHEN 0 THEN {hour} ELSE {day} END,
       CASE x.dim WHEN 0 THEN '' WHEN 1 THEN COALESCE(d.action, '') ELSE COALESCE(d.user_email, '') END,
       {p} * COUNT(*)
FROM "decision" AS d CROSS JOIN (SELECT 0 AS dim, 0 AS mine UNION ALL SELECT 1, 0 UNION ALL SELECT 2, 0
     UNION ALL SELECT 0, 1 UNION ALL SELECT 1, 1 UNION ALL SELECT 2, 1) AS x
WHERE d.seq > {p} AND d.seq <= {p} AND (x.dim = 0 OR NOT d.allowed)
  AND (x.mine = 0 OR COALESCE(d.account_id, '') <> '')
GROUP BY 1, 2, 3, 4
ON CONFLICT ("account", "kind", "bucket", "value")
DO UPDATE SET "entries" = "activity_count"."entries" + excluded."entries"
"""
_SQLITE = {"hour": "REPLACE(SUBSTR(d.at, 1, 13), 'T', ' ')", "day": "SUBSTR(d.at, 1, 10)", "p": "?"}
_POSTGRES = {"hour": "TO_CHAR(d.at, 'YYYY-MM-DD HH24')", "day": "TO_CHAR(d.at, 'YYYY-MM-DD')", "p": "%s"}


def add_range(after: int, through: int, sign: int = 1, chunk: int = CHUNK) -> None:
    """Count the stored entries after < seq <= through in (sign 1) or out (-1, archiving), `chunk`
    at a time; called inside the transaction that moves the mark or drops them. The log writer
    folds FOLD_CHUNK at a time and gives its core way between them (decision 054)."""
    db = database.obj
    sql = _COUNT.format(**(_SQLITE if isinstance(db, pw.SqliteDatabase) else _POSTGRES))
    while after < through:
        upto = min(after + chunk, through)
        db.execute_sql(sql, (sign, after, upto))
        after = upto
        give_way()
    if sign < 0:
        ActivityCount.delete().where(ActivityCount.entries <= 0).execute()


def mark(lock: bool = False) -> int:
    """The seq the rollup counts through; `lock` holds its row to the end of the transaction
    (PostgreSQL: folding and archiving take turns)."""
    if lock:  # a row to hold, even in a database emptied by hand (two folds must not both read 0)
        RolledThrough.insert(id=1, through=0).on_conflict_ignore().execute()
    query = RolledThrough.select(RolledThrough.through).where(RolledThrough.id == 1)
    return (query.for_update() if lock else query).scalar() or 0


def set_mark(through: int) -> None:
    RolledThrough.insert(id=1, through=through).on_conflict(
        conflict_target=[RolledThrough.id], update={RolledThrough.through: through}).execute()


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
    """Whether this database has the rollup and its mark (migration 14 applied): one catalog
    lookup until it has (a table no step removes), then none."""
    db = database.obj
    if _KEPT.get(db):
        return True
    if isinstance(db, pw.SqliteDatabase):
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'activity_rolled'"
    else:
        sql = "SELECT 1 WHERE to_regclass('activity_rolled') IS NOT NULL"
    kept = database.execute_sql(sql).fetchone() is not None
    if kept:
        _KEPT[db] = True
    return kept
