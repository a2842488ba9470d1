"""Manage Users: linking partner users to customers (R4.2-R4.6), each call a grant.manage decision."""

from authz_service import cursors
from authz_service.decide import authorize, holding
from authz_service.policy import Policy
from authz_service.portal import access, link_ends
from authz_service.store import Conflict, NotFound, directory, links
from authz_service.store.directory import KEEP
from authz_service.store.models import utcnow


def _customer(customer_id: str) -> dict:
    found = directory.get_account(customer_id)
    if found is None or found["kind"] != "customer":
        raise NotFound("customer", customer_id)
    return found


def _resource(customer: dict, email: str | None) -> dict:
    return {"type": "link", "id": f"{customer['id']}/{email}" if email else customer["id"]}


def _authorize(policy: Policy, actor: str | None, customer: dict, email: str | None, caller,
               preview: bool = False) -> None:
    """R4.5: grant.manage on the customer's own partner, recorded in the partner's log (R7.2).

    preview: the console's panel opened as `actor` (decided, never recorded as them, R7.5);
    actor None: read by the console's own audit key, no user involved."""
    if preview:
        if actor is not None:
            authorize.preview(policy, actor, "grant.manage", customer["partner_id"])
        return
    if actor is None:  # only a preview reads with no user; anything else is refused (fail closed)
        raise TypeError("a read that is not a preview needs the user asking")
    authorize.require(policy, actor, "grant.manage", customer["partner_id"], _resource(customer, email),
                      None, caller)


def _change(policy: Policy, actor: str, customer: dict, email: str, caller):
    """As _authorize, for a change: one that fails after its allow is recorded as not done."""
    return authorize.change(policy, actor, "grant.manage", customer["partner_id"],
                            _resource(customer, email), None, caller)


def _record_key_change(operator: str, customer: dict, email: str, caller: str, what: str) -> None:
    """A change made on a console key's `manage` scope, in the partner's log as the key (R7.2, R7.5)."""
    authorize.record_operator(operator, "manage", "grant.manage", customer["partner_id"],
                              _resource(customer, email), caller, f"{what} by {operator}")


def _linkable_target(policy: Policy, partner_id: str, email: str) -> dict:
    """R4.4: only a non-admin user of the same partner; anything else refused, nothing changed."""
    user = directory.get_user(email)
    if user is None:
        raise NotFound("user", email)
    if user["account_id"] != partner_id:
        home = directory.get_account(user["account_id"])  # a user's home account is there (R2)
        whose = ("a customer's user" if home is not None and home["kind"] == "customer"
                 else "a user of another partner")
        raise Conflict("not_linkable", f"{email} is {whose}; only this partner's users can be linked",
                       email=email)
    if not policy.is_linkable(user["group"]):
        raise Conflict("not_linkable", f"{email} is a partner admin and already sees every "
                       "customer (R4.1); a link would never be used", email=email)
    return user


def put(policy: Policy, actor: str, customer_id: str, email: str, group: str | None, caller=None,
        expires_at=KEEP):
    """Link (default group from the policy) or change a link and its end (R10.1); returns
    (link, created)."""
    customer = _customer(customer_id)
    with _change(policy, actor, customer, email, caller):
        return _put(policy, customer, email, group, expires_at)


def _put(policy: Policy, customer: dict, email: str, group: str | None, expires_at=KEEP):
    _linkable_target(policy, customer["partner_id"], email)
    existing = links.get_link(email, customer["id"])
    if existing is not None and not links.is_live(existing["expires_at"], utcnow()):
        # R10.1: an ended link is no link; its end is recorded before a new one is made
        link_ends.end_one(email.lower(), customer["id"])
        existing = None
    if group is None:
        group = existing["group"] if existing else policy.default_group("new_link_group")
    return directory.put_link(email, customer["id"], group, expires_at)


def put_by_key(policy: Policy, operator: str, customer_id: str, email: str, group: str | None, caller: str,
               expires_at=KEEP):
    """As `put`, on a console key's `manage` scope; recorded as the key once it is done."""
    customer = _customer(customer_id)
    link, created = _put(policy, customer, email, group, expires_at)
    _record_key_change(operator, customer, email, caller, f"linked as {link['group']}")
    return link, created


def revoke_by_key(operator: str, customer_id: str, email: str, caller: str) -> None:
    """As `revoke`, on a console key's `manage` scope; recorded as the key once it is done."""
    customer = _customer(customer_id)
    links.delete_link(email, customer_id)
    _record_key_change(operator, customer, email, caller, "revoked")


def revoke(policy: Policy, actor: str, customer_id: str, email: str, caller=None) -> None:
    """Revoke a link; it takes effect on the next decision anywhere (R4.6)."""
    customer = _customer(customer_id)
    with _change(policy, actor, customer, email, caller):
        links.delete_link(email, customer_id)


def list_links(policy: Policy, actor: str | None, customer_id: str, limit: int, cursor, caller=None,
               preview: bool = False):
    """The customer's links, by email; `in_use` is False for a link the policy does not act on
    (a partner admin's link from before, R4.1, R4.9: they act as what the policy resolves)."""
    customer = _customer(customer_id)
    _authorize(policy, actor, customer, None, caller, preview)

    def fetch(after):
        items, more = links.list_links(customer_id, after, limit)
        for item in items:
            group, via = holding.held(policy, "customer", "owner", item.pop("home_group"), item["group"], None)
            item["in_use"] = group is not None and via == "link"
        return items, more

    return cursors.page(f"links:{customer_id}", cursor, fetch, lambda i: i["email"])


def who_has_access(policy: Policy, actor: str | None, customer_id: str, limit: int, cursor, caller=None,
                   preview: bool = False):
    """Beside the links: every user who holds a group on the customer, partner admins and the
    customer's own users included, with the group they act with and how (R10.3)."""
    customer = _customer(customer_id)
    _authorize(policy, actor, customer, None, caller, preview)
    return access.who_can(customer_id, None, limit, cursor, policy=policy)


def linkable(policy: Policy, actor: str | None, customer_id: str, limit: int, cursor, caller=None,
             preview: bool = False):
    """The partner's users a link would apply to, not yet linked here."""
    customer = _customer(customer_id)
    _authorize(policy, actor, customer, None, caller, preview)
    groups = [g for g in policy.vocab.groups if policy.is_linkable(g)]
    return cursors.page(f"linkable:{customer_id}", cursor,
                        lambda after: links.unlinked_users(customer["partner_id"], customer_id, groups,
                                                           after, limit),
                        lambda i: i["email"])
