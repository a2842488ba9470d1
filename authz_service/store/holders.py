"""Who holds a group where (R10.3): one query over users, accounts and links, paged by key.

The caller says which facts count (relation, home group, link group, worked out from the
policy's table); these queries only select the rows whose facts match, so the answer is
complete and paged without asking user by user (docs/decisions/027-who-can-act.md).
A link group of None stands for "no link on this customer"; a link past its end is no link
(R10.1: store/links.live, in each join's condition, so it reads as None).
"""

import operator
from dataclasses import dataclass, field
from functools import reduce

import peewee as pw

from authz_service.store.links import live, now_micros
from authz_service.store.models import Account, Link, User, database
from authz_service.store.rows import tuples


@dataclass(frozen=True)
class Matching:
    """Which facts count: home groups per relation, and link groups per owner home group."""

    home: list[str] = field(default_factory=list)  # home groups, relation home
    owner: dict[str, list[str | None]] = field(default_factory=dict)  # home group -> link groups
    none: list[str] = field(default_factory=list)  # home groups, relation none (another account)


def _linked(group_links: dict[str, list[str | None]], home_group, link_group=Link.group) -> list:
    """(home group, link group) pairs as SQL terms over User and the LEFT JOINed Link."""
    terms = []
    for home, link_groups in group_links.items():
        groups = [g for g in link_groups if g is not None]
        link = [link_group.in_(groups)] if groups else []
        link += [link_group.is_null()] if None in link_groups else []
        if link:
            terms.append((home_group == home) & reduce(operator.or_, link))
    return terms


_COLUMNS = (User.email, User.account, User.group, Link.group.alias("link_grp"), Link.expires_at)


def _through_links(account_id: str, partner_id: str, owner: dict, after: str | None, now: int) -> list:
    """The owning partner's users whose home group counts only through a link (R4.2): this
    customer's links (by index), each link's user looked up by email.

    Written so that no plan starts from, or looks users up by, the partner's users: SQLite's
    statistics say one user per account on average, and so does PostgreSQL's generic plan for a
    prepared statement (psycopg prepares a query run five times); with a plain join, each read all
    of a partner's users per link (1.5 s for 1,000 links among 10,000 users, docs/performance.md).
    SQLite: CROSS JOIN keeps the link outside, `+account_id` (its no-op) takes no index.
    PostgreSQL: a LATERAL subquery with LIMIT 1 (one user per email) is not flattened."""
    pairs = {home: groups for home, groups in owner.items() if None not in groups}
    if not pairs:
        return []
    on_link = (Link.customer == account_id) & live(now) & ((Link.user > after) if after is not None else True)
    if isinstance(database.obj, pw.SqliteDatabase):
        home = pw.NodeList([pw.SQL("+"), User.account], glue="")
        return [Link.select(*_COLUMNS).join(User, pw.JOIN.CROSS)
                .where((Link.user == User.email) & on_link & (home == partner_id)
                       & reduce(operator.or_, _linked(pairs, User.group)))]
    of_user = User.alias()
    user = of_user.select(of_user.account, of_user.group).where(of_user.email == Link.user).limit(1).alias("u")
    return [Link.select(Link.user, user.c.account_id, user.c.grp, Link.group.alias("link_grp"), Link.expires_at)
            .join(user, pw.JOIN.LATERAL, on=True)
            .where(on_link & (user.c.account_id == partner_id) & reduce(operator.or_, _linked(pairs, user.c.grp)))]


def users(account_id: str, partner_id: str | None, match: Matching, after: str | None,
          limit: int) -> tuple[list[tuple], bool]:
    """(email, home account, home group, link group, link's end) of the users whose facts on this
    account match, by email after `after`, one page, and whether more follow.

    One statement, the UNION ALL of disjoint parts each read by an index (docs/performance.md,
    "Who can act"): the account's home users; the owning partner's users whose home group counts
    even without a link (the partner admins, R4.1), by (account, group); those whose home group
    counts only through a link, from this customer's links; users of any other account. So a
    page costs what the holders cost, not the partner's size."""
    now = now_micros()
    on = (Link.user == User.email) & (Link.customer == account_id) & live(now)
    later = (User.email > after) if after is not None else True

    def by_user(where):
        return User.select(*_COLUMNS).join(Link, pw.JOIN.LEFT_OUTER, on=on).where(where & later)

    parts = [by_user((User.account == account_id) & User.group.in_(match.home))] if match.home else []
    if partner_id is not None:
        unlinked = {home: groups for home, groups in match.owner.items() if None in groups}
        if unlinked:
            parts.append(by_user((User.account == partner_id) & User.group.in_(list(unlinked))
                                 & reduce(operator.or_, _linked(unlinked, User.group))))
        parts += _through_links(account_id, partner_id, match.owner, after, now)
    if match.none:
        other = (User.account != account_id) & User.group.in_(match.none)
        parts.append(by_user(other & (User.account != partner_id) if partner_id is not None else other))
    if not parts:
        return [], False
    rows = tuples(reduce(operator.add, parts).order_by(pw.SQL("1")).limit(limit + 1))
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True)
class Reaching:
    """For one user: is the home account held, link groups per kind of owned account, other kinds."""

    home: bool = False
    owner: dict[str, list[str | None]] = field(default_factory=dict)  # account kind -> link groups
    none: list[str] = field(default_factory=list)  # kinds of accounts of anyone else


def accounts(email: str, home_account: str, reach: Reaching, after: str | None,
             limit: int) -> tuple[list[tuple], bool]:
    """(account id, name, kind, partner, link group, link's end) of the accounts this user's facts match,
    by id after `after`, one page, and whether more follow."""
    terms = [Account.id == home_account] if reach.home else []
    owned = _linked(reach.owner, Account.kind)
    if owned:
        terms.append((Account.partner == home_account) & reduce(operator.or_, owned))
    if reach.none:
        terms.append(Account.kind.in_(reach.none) & (Account.id != home_account)
                     & (Account.partner.is_null() | (Account.partner != home_account)))
    if not terms:
        return [], False
    where = reduce(operator.or_, terms)
    if after is not None:
        where &= Account.id > after
    on = (Link.customer == Account.id) & (Link.user == email) & live(now_micros())
    query = (Account.select(Account.id, Account.name, Account.kind, Account.partner,
                            Link.group.alias("link_grp"), Link.expires_at)
             .join(Link, pw.JOIN.LEFT_OUTER, on=on).where(where)
             .order_by(Account.id).limit(limit + 1))
    rows = tuples(query)
    return rows[:limit], len(rows) > limit


def pairs(kind: str, match: Matching) -> list[tuple[str, str, str | None]]:
    """(email, account id, the account's owning partner) of every user and account of `kind` whose
    facts match, across the whole directory (policy impact, R9.7); relation `none` is every user
    and every account neither theirs nor their partner's customer."""
    rows: list[tuple] = []
    if match.home:
        rows += tuples(User.select(User.email, Account.id, Account.partner)
                       .join(Account, on=(User.account == Account.id))
                       .where((Account.kind == kind) & User.group.in_(match.home)))
    owned = _linked(match.owner, User.group)
    if owned:
        on = (Link.user == User.email) & (Link.customer == Account.id) & live(now_micros())
        rows += tuples(User.select(User.email, Account.id, Account.partner)
                       .join(Account, on=(Account.partner == User.account))
                       .join(Link, pw.JOIN.LEFT_OUTER, on=on)
                       .where((Account.kind == kind) & reduce(operator.or_, owned)))
    if match.none:
        neither = (Account.id != User.account) & (Account.partner.is_null() | (Account.partner != User.account))
        rows += tuples(User.select(User.email, Account.id, Account.partner)
                       .join(Account, pw.JOIN.CROSS)
                       .where((Account.kind == kind) & User.group.in_(match.none) & neither))
    return rows
