"""Reading the decision log by filter (the console's activity search, GET /v1/decisions): the
filter's conditions, decisions per hour and denials per action or user (R7.3; decision 036).

Every figure is counted by the database over the same conditions as the entries' pages, so a
chart and a page of the same filter never disagree. Counts can be taken over a range of `seq`
only (the entries appended since the last count: log/activity_stats.py keeps running totals).
"""

import functools
import operator

import peewee as pw

from authz_service.store.models import Decision, LogHead, database
from authz_service.store.rows import dicts, tuples

EQUAL = ("account_id", "log_account", "user_email", "action", "allowed")
# What free text is looked for in: who, what, on what, why, which key asked, which decision.
TEXT_COLUMNS = (Decision.user_email, Decision.action, Decision.resource_type, Decision.resource_id,
                Decision.reason, Decision.rule, Decision.caller, Decision.id, Decision.on_behalf_of_partner)
Seqs = tuple[int, int] | None  # (after, up to): entries with after < seq <= up to; None: every entry


def _is_sqlite() -> bool:
    return isinstance(database.obj, pw.SqliteDatabase)


def _column(name: str, by_seq: bool):
    """A column to compare; over a seq range on SQLite, as `+column`, which no index serves, so
    that the planner walks the (short) seq range rather than an account's or a user's index."""
    field = getattr(Decision, name)
    return pw.NodeList((pw.SQL("+"), field), glue="") if by_seq and _is_sqlite() else field


def narrow(query, filters: dict, seqs: Seqs = None):
    """The query with the filter's conditions: equal columns, [since, until), free text (a
    case-insensitive substring of any TEXT_COLUMNS; LIKE's wildcards in it are escaped)."""
    by_seq = seqs is not None
    for name in EQUAL:
        if filters.get(name) is not None:
            query = query.where(_column(name, by_seq) == filters[name])
    if filters.get("since") is not None:
        query = query.where(_column("at", by_seq) >= filters["since"])
    if filters.get("until") is not None:
        query = query.where(_column("at", by_seq) < filters["until"])
    if filters.get("text"):
        text = filters["text"]
        query = query.where(functools.reduce(operator.or_, [c.contains(text) for c in TEXT_COLUMNS]))
    if seqs is not None:
        query = query.where(Decision.seq > seqs[0], Decision.seq <= seqs[1])
    return query


def bounds() -> tuple[int, int]:
    """(seq of the last archived entry, seq of the last entry): the live log is between."""
    archived = LogHead.select(LogHead.archived_seq).where(LogHead.id == 1).scalar() or 0
    return archived, Decision.select(pw.fn.MAX(Decision.seq)).scalar() or archived


def hash_at(seq: int) -> str | None:
    """The chain hash of entry `seq`, None when there is none (archived, or another database)."""
    return Decision.select(Decision.hash).where(Decision.seq == seq).scalar()


def _hour():
    """The SQL for an entry's hour, as text "YYYY-MM-DD HH"."""
    if _is_sqlite():  # stored as "YYYY-MM-DD HH:MM:SS.ffffff"
        return pw.fn.SUBSTR(Decision.at, 1, 13).coerce(False)  # text, not a datetime
    return pw.fn.TO_CHAR(pw.fn.DATE_TRUNC("hour", Decision.at), "YYYY-MM-DD HH24").coerce(False)


def per_hour(filters: dict, seqs: Seqs = None) -> list[tuple[str, bool, str, int]]:
    """("YYYY-MM-DD HH", allowed, action, entries) for every hour, outcome and action found: the
    chart and the denials per action from one pass over the entries."""
    query = narrow(Decision.select(_hour().alias("b"), Decision.allowed, Decision.action,
                                   pw.fn.COUNT(Decision.id)), filters, seqs)
    grouped = query.group_by(pw.SQL("1"), Decision.allowed, Decision.action)  # 1: the hour
    return [(hour, bool(allowed), action, int(n)) for hour, allowed, action, n in tuples(grouped)]


def denials(filters: dict, column: str, seqs: Seqs = None) -> list[tuple[str, int]]:
    """(value of `column`, denied entries) for every action or user_email denied at least once."""
    if filters.get("allowed") is True:  # only allowed entries asked: no denial among them
        return []
    field = getattr(Decision, column)
    query = narrow(Decision.select(field, pw.fn.COUNT(Decision.id)), {**filters, "allowed": False}, seqs)
    return [(value, int(n)) for value, n in tuples(query.group_by(field))]


def entry(decision_id: str) -> dict | None:
    """The stored entry with this decision id (its columns by name), None when there is none."""
    rows = dicts(Decision.select().where(Decision.id == decision_id).limit(1))
    return rows[0] if rows else None
