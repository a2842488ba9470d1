"""Recorded decisions as a replay reads them (R9.7; docs/decisions/033-decision-facts-and-replay.md):
entries grouped by what decided them, in one query, so a million entries cost one scan."""

from datetime import datetime

import peewee as pw

from authz_service.store.models import Decision, database
from authz_service.store.rows import tuples


def has_facts() -> bool:
    """True when the decision table has migration 8's columns (a database not migrated has none)."""
    return any(c.name == "facts" for c in database.get_columns(Decision._meta.table_name))


def _since(query, since: datetime | None):
    return query if since is None else query.where(Decision.at >= since)


def grouped(since: datetime | None) -> list[tuple[str, str, bool, str | None, int, str, str]]:
    """(facts, action, allowed, policy version, how many, oldest id, newest id) of every entry
    recorded with facts at or after `since`, one row per distinct group (ids are time-ordered)."""
    query = (Decision.select(Decision.facts, Decision.action, Decision.allowed, Decision.policy_version,
                             pw.fn.COUNT(pw.SQL("*")), pw.fn.MIN(Decision.id), pw.fn.MAX(Decision.id))
             .where(Decision.facts.is_null(False))
             .group_by(Decision.facts, Decision.action, Decision.allowed, Decision.policy_version))
    return [(f, a, bool(ok), v, n, lo, hi) for f, a, ok, v, n, lo, hi in tuples(_since(query, since))]


def without_facts(since: datetime | None, facts_recorded: bool) -> int:
    """How many entries at or after `since` hold no facts (recorded before migration 8, or not a
    decision of the policy); every entry when the table has no facts column."""
    query = Decision.select(pw.fn.COUNT(pw.SQL("*")))
    if facts_recorded:
        query = query.where(Decision.facts.is_null())
    return int(_since(query, since).scalar() or 0)


def each(since: datetime | None, chunk: int = 5000):
    """Every entry with facts at or after `since`: (id, facts, action, allowed), in chain order
    (the one-by-one reference the replay's tests and bench compare with)."""
    after = 0
    while True:
        query = (Decision.select(Decision.seq, Decision.id, Decision.facts, Decision.action, Decision.allowed)
                 .where(Decision.facts.is_null(False) & (Decision.seq > after)).order_by(Decision.seq).limit(chunk))
        rows = tuples(_since(query, since))
        for _, decision_id, facts, action, allowed in rows:
            yield decision_id, facts, action, bool(allowed)
        if len(rows) < chunk:
            return
        after = rows[-1][0]
