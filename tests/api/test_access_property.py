"""R10.3 as a property: for random partners, customers, users and links, who_can, accounts_for and
actions_for answer exactly what the decision path (gather, then the policy's table) allows."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service import store
from authz_service.decide.gather import gather
from authz_service.portal import access
from authz_service.store import directory, links
from authz_service.store.models import Account, User

worlds = itertools.count()
GROUPS = ("admin", "regular", "read_only", "support", "ghost")  # ghost: a group no policy knows
ACTIONS = (None, "account.view", "port.create", "user.manage", "grant.manage", "billing.view",
           "customer.list", "invoice.download", "port.edit")

user = st.tuples(st.integers(0, 5), st.sampled_from(GROUPS))  # (home account index, group)
link_row = st.tuples(st.integers(0, 11), st.integers(0, 3), st.sampled_from(GROUPS))  # (user, customer, group)


def build(partners: int, owners: list[int], users: list[tuple], link_rows: list[tuple]):
    """A fresh world: its account ids (partners first) and its users' emails."""
    n = next(worlds)
    pids = [f"w{n}p{i}" for i in range(partners)]
    cids = [f"w{n}c{i}" for i in range(len(owners))]
    emails = []
    with store.connection():
        for pid in pids:
            directory.put_partner(pid, f"Partner {pid}")
        for cid, owner in zip(cids, owners, strict=True):
            directory.put_customer(cid, f"Customer {cid}", pids[owner % partners])
        accounts = pids + cids
        for i, (home, group) in enumerate(users):
            account = accounts[home % len(accounts)]
            email = f"u{i}@{account}.example"
            directory.put_user(email, account, "partner" if account in pids else "customer", group)
            emails.append(email)
        for who, customer, group in link_rows:
            if emails and cids:  # any user, even an admin or another partner's (R4.9 leaves such rows)
                directory.put_link(emails[who % len(emails)], cids[customer % len(cids)], group)
    return pids + cids, emails


def walk(call, limit: int) -> list[dict]:
    """Every page of a listing, in order."""
    items, cursor = [], None
    while True:
        page, cursor = call(limit, cursor)
        assert len(page) <= limit
        items += page
        if cursor is None:
            return items


def decided(policy, email: str, account: str, action: str | None):
    """The decision path's verdict; without an action, whether a group is held there."""
    verdict = policy.decide(gather(email, account).facts, action or "account.view")
    return (verdict.allowed if action else verdict.group is not None), verdict.group


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partners=st.integers(1, 2), owners=st.lists(st.integers(0, 1), min_size=1, max_size=4),
       users=st.lists(user, max_size=10), link_rows=st.lists(link_row, max_size=8),
       actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True),
       limit=st.integers(1, 3))
def test_who_can_is_exactly_what_the_decision_path_allows(app, partners, owners, users, link_rows, actions,
                                                          limit):
    """who_can(account, action) lists exactly the users authorize would allow (or who hold a group),
    with the group the decision reports; accounts_for and actions_for likewise."""
    policy = app.extensions["authz"].policy
    accounts, emails = build(partners, owners, users, link_rows)
    with store.connection():
        everyone = [e for (e,) in User.select(User.email).tuples()]
        every_account = [a for (a,) in Account.select(Account.id).tuples()]
        for account, action in itertools.product(accounts, actions):
            listed = walk(lambda lim, cur, a=account, x=action: access.who_can(a, x, lim, cur, policy=policy), limit)
            assert [i["email"] for i in listed] == sorted({i["email"] for i in listed})
            expected = {}
            for email in everyone:
                allowed, group = decided(policy, email, account, action)
                if allowed:
                    expected[email] = group
            assert {i["email"]: i["group"] for i in listed} == expected, (account, action)
            for item in listed:
                home = directory.get_user(item["email"])["account_id"]
                assert (item["via"] == "home") == (home == account)
                if item["via"] == "link":  # a link the decision uses exists
                    assert links.get_link(item["email"], account) is not None
                assert item["expires_at"] is None
        for email, action in itertools.product(emails, actions):
            reached = walk(lambda lim, cur, e=email, x=action: access.accounts_for(e, x, lim, cur, policy=policy),
                           limit)
            expected = {}
            for account in every_account:
                allowed, group = decided(policy, email, account, action)
                if allowed:
                    expected[account] = group
            assert {i["account_id"]: i["group"] for i in reached} == expected, (email, action)
            assert [i["account_id"] for i in reached] == sorted(expected)
        for email, account in itertools.product(emails, accounts):
            allowed = [a for a in policy.vocab.actions if decided(policy, email, account, a)[0]]
            assert access.actions_for(email, account, policy=policy) == sorted(allowed)
