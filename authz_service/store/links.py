"""Links between partner users and customers (R4.2): listing, linkable users, revoking."""

from authz_service.store.errors import NotFound
from authz_service.store.models import Link, User
from authz_service.store.rows import tuples


def list_links(customer_id: str, after: str | None, limit: int) -> tuple[list[dict], bool]:
    """The customer's links by email (with the user's home group), one page, and whether more follow."""
    query = (Link.select(Link.user, Link.group, Link.linked_at, User.group.alias("home_grp"))
             .join(User).where(Link.customer == customer_id))
    if after is not None:
        query = query.where(Link.user > after)
    rows = tuples(query.order_by(Link.user).limit(limit + 1))
    items = [{"email": email, "group": group, "linked_at": linked_at, "home_group": home}
             for email, group, linked_at, home in rows[:limit]]
    return items, len(rows) > limit


def get_link(email: str, customer_id: str) -> dict | None:
    """One link, or None."""
    row = Link.get_or_none((Link.user == email) & (Link.customer == customer_id))
    return None if row is None else {"email": row.user_email, "group": row.group,
                                     "linked_at": row.linked_at}


def unlinked_users(partner_id: str, customer_id: str, groups: list[str], after: str | None,
                   limit: int) -> tuple[list[dict], bool]:
    """The partner's users with a home group in `groups` and no link to this customer."""
    linked = Link.select(Link.user).where(Link.customer == customer_id)
    query = User.select().where((User.account == partner_id) & User.group.in_(groups)
                                & User.email.not_in(linked))
    if after is not None:
        query = query.where(User.email > after)
    rows = list(query.order_by(User.email).limit(limit + 1))
    return [{"email": r.email, "group": r.group} for r in rows[:limit]], len(rows) > limit


def delete_link(email: str, customer_id: str) -> None:
    """Revoke a link; NotFound when there is none."""
    gone = Link.delete().where((Link.user == email) & (Link.customer == customer_id)).execute()
    if not gone:
        raise NotFound("link", f"{customer_id}/{email}")
