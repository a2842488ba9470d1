"""Links between partner users and customers (R4.2): listing, linkable users, revoking.

A link past its end (R10.1) is no link: `live` is the one condition every read of links uses
(facts, holders, accounts, the Customers page, these lists), against the same clock."""

from datetime import datetime

import peewee as pw

from authz_service.store.errors import NotFound
from authz_service.store.models import Link, User, to_micros, utcnow
from authz_service.store.rows import tuples


def now_micros(now: datetime | None = None) -> int:
    """The instant links are judged at, as stored (microseconds since the epoch, UTC)."""
    return to_micros(now or utcnow())


def live(now: int, link=Link) -> pw.Expression:
    """R10.1: the link has no end, or its end is after `now` (from the end on, it is no link)."""
    return link.expires_at.is_null() | (link.expires_at > now)


def is_live(expires_at: datetime | None, now: datetime) -> bool:
    """As `live`, for a link read earlier (a cached facts row, R4.6): the end is compared at use."""
    return expires_at is None or expires_at > now


def list_links(customer_id: str, after: str | None, limit: int) -> tuple[list[dict], bool]:
    """The customer's links that count now, by email (with the user's home group), one page, and
    whether more follow."""
    query = (Link.select(Link.user, Link.group, Link.linked_at, Link.expires_at, User.group.alias("home_grp"))
             .join(User).where((Link.customer == customer_id) & live(now_micros())))
    if after is not None:
        query = query.where(Link.user > after)
    rows = tuples(query.order_by(Link.user).limit(limit + 1))
    items = [{"email": email, "group": group, "linked_at": linked_at, "expires_at": ends, "home_group": home}
             for email, group, linked_at, ends, home in rows[:limit]]
    return items, len(rows) > limit


def get_link(email: str, customer_id: str) -> dict | None:
    """One link (counting or ended but not yet swept: see `expires_at`), or None."""
    row = Link.get_or_none((Link.user == email) & (Link.customer == customer_id))
    return None if row is None else {"email": row.user_email, "group": row.group,
                                     "linked_at": row.linked_at, "expires_at": row.expires_at}


def unlinked_users(partner_id: str, customer_id: str, groups: list[str], after: str | None,
                   limit: int) -> tuple[list[dict], bool]:
    """The partner's users with a home group in `groups` and no link that counts to this customer."""
    linked = Link.select(Link.user).where((Link.customer == customer_id) & live(now_micros()))
    query = User.select().where((User.account == partner_id) & User.group.in_(groups)
                                & User.email.not_in(linked))
    if after is not None:
        query = query.where(User.email > after)
    rows = list(query.order_by(User.email).limit(limit + 1))
    return [{"email": r.email, "group": r.group} for r in rows[:limit]], len(rows) > limit


def delete_link(email: str, customer_id: str) -> None:
    """Revoke a link that counts; NotFound when there is none (an ended link is gone, R10.1: the
    sweeper removes it and records its end)."""
    gone = (Link.delete().where((Link.user == email) & (Link.customer == customer_id)
                                & live(now_micros())).execute())
    if not gone:
        raise NotFound("link", f"{customer_id}/{email}")
