"""Links past their end (R10.1), removed later by the sweeper, each end recorded once.

A link's end is recorded in its partner's log by an entry whose id is claimed on the link row
first (`end_entry`), then written, then the row is deleted; each step is a condition on the row,
so concurrent sweepers (every worker, every replica) and a sweeper killed between two steps
still record each end exactly once (docs/decisions/035-time-bound-access.md).
"""

from dataclasses import dataclass
from datetime import datetime

from authz_service.store.models import Account, Decision, Link, database, from_micros, to_micros
from authz_service.store.rows import tuples


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
