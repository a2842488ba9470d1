"""Who can act on an account, where a user acts, and what they may do there (R10.3).

Complete and paged, computed in the database from the grants and the policy's decision
table (decide/holding.py, store/holders.py), never by deciding user by user. An unknown
account, user or action gives empty results, never an error; these three check no caller
(the endpoints calling them are gated by their key's scope); `list_access` is the Access
endpoint's use case and checks its `user` first (docs/decisions/027-who-can-act.md).
`policy` defaults to the policy in force for the request being served.
"""

from authz_service import cursors
from authz_service.decide import authorize, holding, in_force
from authz_service.decide.gather import gather, relation_of
from authz_service.log import values
from authz_service.policy import Policy
from authz_service.store import NotFound, directory, holders
from authz_service.store.models import from_micros


def _askable(*texts: str) -> bool:
    """False for a value no store keeps (NUL, a lone surrogate): nothing holds it, so nothing to ask."""
    return all(isinstance(t, str) and values.faithful(t) for t in texts)


def _known(policy: Policy, action: str | None) -> bool:
    return action is None or policy.is_action(action)


def _after(position) -> str | None:
    if position is not None and not isinstance(position, str):
        raise cursors.InvalidCursor("the cursor is not one this service gave for this list")
    return position


def who_can(account_id: str, action: str | None, limit: int, cursor: str | None, *,
            policy: Policy | None = None) -> tuple[list[dict], str | None]:
    """Every user who holds a group on the account (with `action`, those the policy allows it),
    by email: {"email", "group", "via": home|partner_admin|link, "expires_at": None}."""
    policy = policy if policy is not None else in_force.policy()
    account = directory.get_account(account_id) if _askable(account_id) else None
    if account is None or not _known(policy, action):
        return [], None
    match = holding.matching(policy, account["kind"], action)

    def fetch(after):
        rows, more = holders.users(account_id, account["partner_id"], match, _after(after), limit)
        return [_holder(policy, account, row, action) for row in rows], more

    return cursors.page(f"access:{account_id}", cursor, fetch, lambda item: item["email"])


def _holder(policy: Policy, account: dict, row: tuple, action: str | None) -> dict:
    email, home, home_group, link, ends = row
    relation = relation_of(home, account["id"], account["partner_id"])
    group, via = holding.held(policy, account["kind"], relation, home_group, link, action)
    if isinstance(ends, int):  # a UNION's rows come back as stored
        ends = from_micros(ends)
    # R10.1, R10.3: until when, for a group held through a link that ends; else no end
    return {"email": email, "group": group, "via": via, "expires_at": ends if via == "link" else None}


def accounts_for(email: str, action: str | None, limit: int, cursor: str | None, *,
                 policy: Policy | None = None) -> tuple[list[dict], str | None]:
    """Every account the user acts on (home, their partner's customers, links), by id; with
    `action`, those the policy allows it: {"account_id", "name", "kind", "group", "via"}."""
    policy = policy if policy is not None else in_force.policy()
    got = gather(email, None) if _askable(email) else None
    if got is None or got.home_account is None or got.home_kind is None or not _known(policy, action):
        return [], None
    home, home_group = got.home_account, got.facts.home_group
    reach = holding.reaching(policy, got.home_kind, home_group, action)

    def fetch(after):
        rows, more = holders.accounts(email.lower(), home, reach, _after(after), limit)
        return [_reached(policy, home, home_group, row, action) for row in rows], more

    return cursors.page(f"access-accounts:{email.lower()}", cursor, fetch, lambda item: item["account_id"])


def _reached(policy: Policy, home: str, home_group: str, row: tuple, action: str | None) -> dict:
    account_id, name, kind, partner, link, ends = row
    relation = relation_of(home, account_id, partner)
    group, via = holding.held(policy, kind, relation, home_group, link, action)
    return {"account_id": account_id, "name": name, "kind": kind, "group": group, "via": via,
            "expires_at": ends if via == "link" else None}


def actions_for(email: str, account_id: str, *, policy: Policy | None = None) -> list[str]:
    """The known actions (R3 names) the policy allows the user on that account, sorted."""
    policy = policy if policy is not None else in_force.policy()
    if not _askable(email, account_id):
        return []
    facts = gather(email, account_id).facts  # no session: as the user, outside any view (R6)
    return sorted(a for a in policy.vocab.actions if policy.decide(facts, a).allowed)


def list_access(policy: Policy, actor: str | None, customer_id: str, action: str | None, limit: int,
                cursor: str | None, caller: str | None = None, preview: bool = False):
    """GET /v1/customers/{id}/access: 404 unknown customer, 400 unknown action, then the reader is
    decided (R10.3, R7.1) and every holder listed."""
    customer = directory.get_account(customer_id)
    if customer is None or customer["kind"] != "customer":
        raise NotFound("customer", customer_id)
    if not _known(policy, action):
        raise authorize.UnknownAction(action)
    cursors.decode(f"access:{customer_id}", cursor)  # a forged cursor is refused before deciding
    _authorize_reader(policy, actor, customer, caller, preview)
    return who_can(customer_id, action, limit, cursor, policy=policy)


def _authorize_reader(policy: Policy, actor: str | None, customer: dict, caller, preview: bool) -> None:
    """R10.3: the customer's admins (`user.manage` on it, in its log) or the partner's
    (`grant.manage` on the partner, in the partner's log, R7.2); Denied names the last decision.

    preview: the console opened as `actor`, decided, never recorded (R7.5); actor None: the
    console's own key reads, no user involved."""
    if actor is None:
        if preview:
            return
        raise TypeError("reading who has access needs the reader's email (R10.3)")
    resource = {"type": "access", "id": customer["id"]}

    def ask(action: str, account: str) -> None:
        if preview:
            authorize.preview(policy, actor, action, account)
        else:
            authorize.require(policy, actor, action, account, resource, None, caller)

    try:
        ask("user.manage", customer["id"])
    except authorize.Denied:
        ask("grant.manage", customer["partner_id"])
