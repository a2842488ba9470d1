"""Links past their end (R10.1), removed later by the sweeper, each end recorded once.

A link's end is recorded in its partner's log by an entry whose id is claimed on the link row
first (`end_entry`), then written, then the row is deleted; each step is a condition on the row,
so concurrent sweepers (every worker, every replica) and a sweeper killed between two steps
still record each end exactly once (docs/decisions/035-time-bound-access.md).
"""

from dataclasses import dataclass
from datetime import datetime

import peewee as pw

from authz_service.store.models import (
    Account,
    BaseModel,
    Decision,
    Link,
    database,
    from_micros,
    to_micros,
)
from authz_service.store.rows import tuples


class LinkEnd(BaseModel):
    """One recorded end of one link (R10.1): a link ends at most once at a given instant, so its
    end is recorded at most once however long a sweeper stalls (migration 13; decision 042)."""

    customer_id = pw.CharField(max_length=64)
    user_email = pw.CharField(max_length=254)
    ends_at = pw.BigIntegerField()  # microseconds since the epoch, as link.expires_at
    entry_id = pw.CharField(max_length=32)

    class Meta:
        table_name = "link_end"
        primary_key = pw.CompositeKey("customer_id", "user_email", "ends_at")


@dataclass(frozen=True)
class Ended:
    """One link past its end, and the log entry claimed for it (None: not claimed yet)."""

    email: str
    customer_id: str
    partner_id: str
    group: str
    expires_at: datetime
    end_entry: str | None


def _ended(now: datetime):
    return Link.expires_at.is_null(False) & (Link.expires_at <= to_micros(now))


def due(now: datetime, limit: int, email: str | None = None, customer_id: str | None = None) -> list[Ended]:
    """Links whose end is at or before `now`, earliest end first (or the one named)."""
    where = _ended(now)
    if email is not None:
        where &= (Link.user == email) & (Link.customer == customer_id)
    query = (Link.select(Link.user, Link.customer, Account.partner, Link.group, Link.expires_at, Link.end_entry)
             .join(Account, on=(Account.id == Link.customer)).where(where)
             .order_by(Link.expires_at).limit(limit))
    return [Ended(row[0], row[1], row[2], row[3], from_micros(row[4]) if isinstance(row[4], int) else row[4], row[5])
            for row in tuples(query)]


def claim(links: list[tuple[Ended, str]], now: datetime) -> list[tuple[Ended, str]]:
    """Name the entry that will record each end, in one transaction; those claimed. A link is
    skipped when another sweeper claimed it since it was read, or a PUT gave it a new end (which
    clears the claim)."""
    won = []
    with database.atomic():
        for link, entry_id in links:
            this = (Link.user == link.email) & (Link.customer == link.customer_id) & _ended(now)
            held = Link.end_entry.is_null() if link.end_entry is None else (Link.end_entry == link.end_entry)
            if Link.update(end_entry=entry_id).where(this & held).execute():
                won.append((link, entry_id))
    return won


def first_records(ends: list[tuple[str, "Ended"]]) -> set[str]:
    """Of (entry id, link) pairs, the entry ids whose link's end has no record yet, each recorded
    now: run under the log's lock, in the transaction that stores the entries (chain.append_once),
    so of two sweepers recording the same end only the first stores an entry."""
    keys = {(link.customer_id, link.email, to_micros(link.expires_at)): entry_id for entry_id, link in ends}
    if not keys:
        return set()
    done = set()
    for customer_id, email, ends_at in keys:
        where = (LinkEnd.customer_id == customer_id) & (LinkEnd.user_email == email) & (LinkEnd.ends_at == ends_at)
        if LinkEnd.select().where(where).exists():
            done.add((customer_id, email, ends_at))
    fresh = [{"customer_id": c, "user_email": e, "ends_at": t, "entry_id": keys[c, e, t]}
             for c, e, t in keys if (c, e, t) not in done]
    if fresh:
        LinkEnd.insert_many(fresh).execute()
    return {str(row["entry_id"]) for row in fresh}


def recorded(entry_ids: list[str]) -> set[str]:
    """Which of these entries are in the log (after log sync: spooled entries are stored)."""
    if not entry_ids:
        return set()
    return {row[0] for row in tuples(Decision.select(Decision.id).where(Decision.id.in_(entry_ids)))}


def remove(links: list[tuple[Ended, str]], now: datetime) -> int:
    """Delete the ended links whose ends these entries recorded, in one transaction; a link given a
    new end meanwhile stays (its claim was cleared)."""
    gone = 0
    with database.atomic():
        for link, entry_id in links:
            gone += Link.delete().where((Link.user == link.email) & (Link.customer == link.customer_id)
                                        & (Link.end_entry == entry_id) & _ended(now)).execute()
    return gone
