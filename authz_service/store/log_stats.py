"""Reading the decision log by filter (the console's activity search, GET /v1/decisions): the
filter's conditions, decisions over time and the most denied actions and users (R7.3; decision 036).

Every figure is counted by the database over the same conditions as the entries' pages, so a
chart and a page of the same filter never disagree.
"""

from datetime import datetime

import peewee as pw

from authz_service.store.models import Decision, database
from authz_service.store.rows import tuples

EQUAL = ("account_id", "log_account", "user_email", "action", "allowed")
# What free text is looked for in: who, what, on what, why, which key asked, which decision.
TEXT_COLUMNS = (Decision.user_email, Decision.action, Decision.resource_type, Decision.resource_id,
                Decision.reason, Decision.rule, Decision.caller, Decision.id, Decision.on_behalf_of_partner)
UNITS = {"hour": 13, "day": 10}  # characters of "YYYY-MM-DD HH" kept per bucket


def narrow(query: pw.ModelSelect, filters: dict) -> pw.ModelSelect:
    """The query with the filter's conditions: equal columns, [since, until), free text (a
    case-insensitive substring of any TEXT_COLUMNS; LIKE's wildcards in it are escaped)."""
    for name in EQUAL:
        if filters.get(name) is not None:
            query = query.where(getattr(Decision, name) == filters[name])
    if filters.get("since") is not None:
        query = query.where(Decision.at >= filters["since"])
    if filters.get("until") is not None:
        query = query.where(Decision.at < filters["until"])
    if filters.get("text"):
        text = filters["text"]
        query = query.where(pw.reduce(lambda a, b: a | b, [c.contains(text) for c in TEXT_COLUMNS]))
    return query


def _bucket(unit: str):
    """The SQL for an entry's hour or day, as text "YYYY-MM-DD HH" or "YYYY-MM-DD"."""
    if isinstance(database.obj, pw.SqliteDatabase):  # stored as "YYYY-MM-DD HH:MM:SS.ffffff"
        return pw.fn.SUBSTR(Decision.at, 1, UNITS[unit]).coerce(False)  # text, not a datetime
    pattern = "YYYY-MM-DD HH24" if unit == "hour" else "YYYY-MM-DD"
    return pw.fn.TO_CHAR(pw.fn.DATE_TRUNC(unit, Decision.at), pattern).coerce(False)


def over_time(filters: dict, unit: str) -> list[tuple[datetime, int, int]]:
    """(start of the hour or day, allowed, denied) for every bucket holding an entry, oldest first."""
    bucket = _bucket(unit)
    denied = pw.fn.SUM(pw.Case(None, [(Decision.allowed == False, 1)], 0))  # noqa: E712 (SQL)
    query = narrow(Decision.select(bucket.alias("b"), pw.fn.COUNT(Decision.id), denied), filters)
    found = []
    for start, total, no in tuples(query.group_by(pw.SQL("1")).order_by(pw.SQL("1"))):  # the bucket
        at = datetime.strptime(start, "%Y-%m-%d %H" if unit == "hour" else "%Y-%m-%d")
        found.append((at, int(total) - int(no or 0), int(no or 0)))
    return found


def most_denied(filters: dict, column: str, limit: int = 10) -> list[tuple[str, int]]:
    """The `column` values (action or user_email) with the most denied entries, most first."""
    field = getattr(Decision, column)
    count = pw.fn.COUNT(Decision.id)
    query = narrow(Decision.select(field, count), {**filters, "allowed": False})
    return [(value, int(n)) for value, n in
            tuples(query.group_by(field).order_by(count.desc(), field).limit(limit))]
