"""The accounts a user may act on, as one query (API.md POST /v1/authorize/accounts)."""

import base64
import binascii
import operator
from dataclasses import dataclass, field
from functools import reduce

from authz_service.store.errors import Conflict
from authz_service.store.models import Account, Link


@dataclass(frozen=True)
class Reach:
    """Which relations the policy allows for this action and this user's home group."""

    email: str
    home_account: str
    include_home: bool
    all_owned: bool
    owned_link_groups: list[str] = field(default_factory=list)
    other_kinds: list[str] = field(default_factory=list)


def encode_cursor(last_id: str) -> str:
    """An opaque cursor: the last id returned."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id inside a cursor; a cursor that is not ours is a Conflict-free 422 upstream."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Conflict("invalid_cursor", "the cursor is not one this service gave") from None


def reachable(reach: Reach, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    """Account ids in id order, one page; computed by the database, not one by one."""
    terms = []
    if reach.include_home:
        terms.append(Account.id == reach.home_account)
    if reach.all_owned:
        terms.append(Account.partner == reach.home_account)
    if reach.owned_link_groups:
        linked = Link.select(Link.customer).where(
            (Link.user == reach.email) & Link.group.in_(reach.owned_link_groups))
        terms.append((Account.partner == reach.home_account) & Account.id.in_(linked))
    if reach.other_kinds:
        terms.append(Account.kind.in_(reach.other_kinds) & (Account.id != reach.home_account)
                     & ((Account.partner.is_null()) | (Account.partner != reach.home_account)))
    if not terms:
        return [], None
    where = reduce(operator.or_, terms)
    if cursor:
        where &= Account.id > decode_cursor(cursor)
    rows = list(Account.select(Account.id).where(where).order_by(Account.id).limit(limit + 1).tuples())
    ids = [r[0] for r in rows[:limit]]
    return ids, (encode_cursor(ids[-1]) if len(rows) > limit else None)
