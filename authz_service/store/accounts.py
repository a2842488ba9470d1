"""The accounts a user may act on, as one query (docs/api.md POST /v1/authorize/accounts)."""

import operator
from dataclasses import dataclass, field
from functools import reduce

from authz_service.store.links import live, now_micros
from authz_service.store.models import Account, Link
from authz_service.store.rows import tuples


@dataclass(frozen=True)
class Reach:
    """Which relations the policy allows for this action and this user's home group."""

    email: str
    home_account: str
    include_home: bool
    all_owned: bool
    owned_link_groups: list[str] = field(default_factory=list)
    other_kinds: list[str] = field(default_factory=list)


def reachable(reach: Reach, limit: int, after: str | None) -> tuple[list[str], bool]:
    """Account ids in id order after `after`, one page, and whether more follow.

    Computed by the database, not by checking accounts one by one.
    """
    terms = []
    if reach.include_home:
        terms.append(Account.id == reach.home_account)
    if reach.all_owned:
        terms.append(Account.partner == reach.home_account)
    if reach.owned_link_groups:
        linked = Link.select(Link.customer).where(  # links that count now (R10.1)
            (Link.user == reach.email) & Link.group.in_(reach.owned_link_groups) & live(now_micros()))
        terms.append((Account.partner == reach.home_account) & Account.id.in_(linked))
    if reach.other_kinds:
        terms.append(Account.kind.in_(reach.other_kinds) & (Account.id != reach.home_account)
                     & ((Account.partner.is_null()) | (Account.partner != reach.home_account)))
    if not terms:
        return [], False
    where = reduce(operator.or_, terms)
    if after is not None:
        where &= Account.id > after
    rows = tuples(Account.select(Account.id).where(where).order_by(Account.id).limit(limit + 1))
    ids = [r[0] for r in rows[:limit]]
    return ids, len(rows) > limit
