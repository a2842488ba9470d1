"""Who can act on an account, where a user acts, what they may do there (R10.3): a stand-in.

Correct but slow (it decides user by user through gather and the policy); the use case
computed in the database replaces this module whole, with the same three functions. Unknown
accounts, users or actions give empty results, never an error; no caller is checked here.
"""

from authz_service import cursors
from authz_service.decide.gather import gather
from authz_service.log import values
from authz_service.policy import NONE, Policy
from authz_service.store import directory

EVERYONE = 100_000  # the stand-in reads whole lists; the real use case pages in the database


def _policy(policy: Policy | None) -> Policy:
    if policy is None:
        raise RuntimeError("no policy given: pass the policy in force")
    return policy


def _page(kind: str, items: list[dict], key: str, limit: int, cursor: str | None):
    after = cursors.decode(kind, cursor)
    if after is not None and not isinstance(after, str):
        raise cursors.InvalidCursor("the cursor is not one this service gave for this list")
    rest = [item for item in sorted(items, key=lambda i: i[key]) if after is None or item[key] > after]
    page = rest[:limit]
    return page, (cursors.encode(kind, page[-1][key]) if len(rest) > limit else None)


def _held(policy: Policy, email: str, account_id: str, action: str | None):
    """(group, via) when the user holds a group there (and `action` is allowed), else None."""
    facts = gather(email, account_id).facts
    verdict = policy.decide(facts, action or "account.view")
    if verdict.group is None or (action is not None and not verdict.allowed):
        return None
    if facts.relation == "home":
        return verdict.group, "home"
    return verdict.group, ("link" if facts.link_group not in (NONE, None)
                           and verdict.group == facts.link_group else "partner_admin")


def who_can(account_id: str, action: str | None, limit: int, cursor: str | None, *,
            policy: Policy | None = None) -> tuple[list[dict], str | None]:
    """Every user holding a group on the account (with `action`, those it allows), by email."""
    policy = _policy(policy)
    account = directory.get_account(account_id) if values.faithful(account_id) else None
    if account is None or (action is not None and not policy.is_action(action)):
        return [], None
    users = directory.users_of(account_id, EVERYONE)
    if account["partner_id"]:
        users += directory.users_of(account["partner_id"], EVERYONE)
    items = []
    for user in users:
        held = _held(policy, user["email"], account_id, action)
        if held is not None:
            items.append({"email": user["email"], "group": held[0], "via": held[1], "expires_at": None})
    return _page(f"access:{account_id}", items, "email", limit, cursor)


def accounts_for(email: str, action: str | None, limit: int, cursor: str | None, *,
                 policy: Policy | None = None) -> tuple[list[dict], str | None]:
    """Every account the user acts on (with `action`, those it allows), by id."""
    policy = _policy(policy)
    user = directory.get_user(email) if values.faithful(email) else None
    if user is None or (action is not None and not policy.is_action(action)):
        return [], None
    accounts = [directory.get_account(user["account_id"]),
                *directory.list_accounts("customer", user["account_id"], EVERYONE)]
    items = []
    for account in accounts:
        held = _held(policy, user["email"], account["id"], action)
        if held is not None:
            items.append({"account_id": account["id"], "name": account["name"],
                          "kind": account["kind"], "group": held[0], "via": held[1]})
    return _page(f"access-accounts:{user['email']}", items, "account_id", limit, cursor)


def actions_for(email: str, account_id: str, *, policy: Policy | None = None) -> list[str]:
    """The known actions the policy allows the user on that account, sorted."""
    policy = _policy(policy)
    if not (values.faithful(email) and values.faithful(account_id)):
        return []
    facts = gather(email, account_id).facts
    return sorted(a for a in policy.vocab.actions if policy.decide(facts, a).allowed)
