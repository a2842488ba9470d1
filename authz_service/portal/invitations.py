"""Invites (R1): a partner invites a customer by email; accepting creates the customer."""

from datetime import timedelta

from authz_service import cursors, usernames
from authz_service.decide import authorize
from authz_service.log import chain
from authz_service.policy import Policy
from authz_service.store import NotFound, directory, invites
from authz_service.store.models import utcnow

VALID_FOR = timedelta(days=30)  # R1.2


def _partner(partner_id: str) -> dict:
    found = directory.get_account(partner_id)
    if found is None or found["kind"] != "partner":
        raise NotFound("partner", partner_id)
    return found


def create(policy: Policy, actor: str, partner_id: str, email: str, caller=None) -> dict:
    """A pending invite; needs customer.invite on the partner (recorded in its log, R7.2)."""
    email = usernames.stored_form(email)  # R2.3, refused before deciding
    _partner(partner_id)
    with authorize.change(policy, actor, "customer.invite", partner_id, {"type": "invite", "id": email},
                          None, caller):
        now = utcnow()
        return invites.create(chain.new_id(), partner_id, email, actor.lower(), now, now + VALID_FOR)


def list_for(policy: Policy, actor: str, partner_id: str, limit: int, cursor, caller=None):
    """The partner's invites and their status, newest first; needs customer.list."""
    _partner(partner_id)
    authorize.require(policy, actor, "customer.list", partner_id, None, None, caller)
    now = utcnow()
    return cursors.page(f"invites:{partner_id}", cursor,
                        lambda after: invites.list_for(partner_id, after, limit, now), lambda i: i["invite_id"])


def revoke(policy: Policy, actor: str, invite_id: str, caller=None) -> dict:
    """Pending -> revoked (R1.2). Already revoked is gone: 404; accepted or expired: 409."""
    now = utcnow()
    invite = invites.get(invite_id, now)
    with authorize.change(policy, actor, "customer.invite", invite["partner_id"],
                          {"type": "invite", "id": invite_id}, None, caller):
        if invite["status"] == "revoked":
            raise NotFound("invite", invite_id)
        return invites.revoke(invite_id, now)


def accept(policy: Policy, invite_id: str, customer_id: str, name: str, admin_email: str) -> dict:
    """R1.3: the customer account, owned by the partner, with its first user as admin."""
    customer = {"customer_id": customer_id, "name": name}
    return invites.accept(invite_id, customer, usernames.stored_form(admin_email),
                        policy.default_group("first_user_group"), utcnow())
