"""Invites (R1.2): pending until accepted, revoked, or past their expiry."""

from datetime import datetime

import peewee as pw

from authz_service import usernames
from authz_service.store.errors import Conflict, NotFound
from authz_service.store.models import Account, Invite, User, database


def invite_dict(row: Invite, now: datetime) -> dict:
    """An invite with its status as of `now` (a pending one past expiry is `expired`)."""
    status = row.status
    if status == "pending" and row.expires_at <= now:
        status = "expired"
    return {"invite_id": row.id, "partner_id": row.partner_id, "email": row.email,
            "status": status, "created_at": row.created_at, "expires_at": row.expires_at,
            "invited_by": row.invited_by, "customer_id": row.customer_id}


def create(invite_id: str, partner_id: str, email: str, invited_by: str, now: datetime,
           expires_at: datetime) -> dict:
    """A new pending invite, for an email R2.3 accepts as a user name (it may become one)."""
    row = Invite.create(id=invite_id, partner=partner_id, email=usernames.stored_form(email), invited_by=invited_by,
                        created_at=now, expires_at=expires_at)
    return invite_dict(row, now)


def get(invite_id: str, now: datetime) -> dict:
    """One invite; NotFound when there is none."""
    row = Invite.get_or_none(Invite.id == invite_id)
    if row is None:
        raise NotFound("invite", invite_id)
    return invite_dict(row, now)


def list_for(partner_id: str, after: str | None, limit: int, now: datetime):
    """The partner's invites, newest first (ids are time-ordered), one page."""
    query = Invite.select().where(Invite.partner == partner_id)
    if after is not None:
        query = query.where(Invite.id < after)
    rows = list(query.order_by(Invite.id.desc()).limit(limit + 1))
    return [invite_dict(r, now) for r in rows[:limit]], len(rows) > limit


def revoke(invite_id: str, now: datetime) -> dict:
    """Pending -> revoked; only a pending invite changes (checked in the same statement)."""
    changed = (Invite.update(status="revoked", ended_at=now)
               .where((Invite.id == invite_id) & (Invite.status == "pending") & (Invite.expires_at > now))
               .execute())
    if not changed:
        raise Conflict("invite_not_pending", "only a pending invite can be revoked")
    return get(invite_id, now)


def accept(invite_id: str, customer: dict, admin_email: str, admin_group: str, now: datetime) -> dict:
    """Create the customer owned by the invite's partner and its first user (R1.3), atomically.

    The invite is claimed by a guarded update first, so two concurrent accepts
    cannot both succeed; any failure after that rolls the claim back.
    """
    admin_email = usernames.stored_form(admin_email)  # R2.3, before anything is claimed
    try:
        with database.atomic():
            claimed = (Invite.update(status="accepted", ended_at=now, customer_id=customer["customer_id"])
                       .where((Invite.id == invite_id) & (Invite.status == "pending")
                              & (Invite.expires_at > now)).execute())
            if not claimed:
                status = get(invite_id, now)["status"]  # NotFound if there is no such invite
                raise Conflict("invite_not_pending", f"the invite is {status}", status=status)
            row = Invite.get(Invite.id == invite_id)
            if Account.get_or_none(Account.id == customer["customer_id"]) is not None:
                raise Conflict("duplicate_id", f"account {customer['customer_id']} already exists")
            if User.get_or_none(User.email == admin_email) is not None:
                raise Conflict("email_taken", f"{admin_email} already has a home account")
            Account.create(id=customer["customer_id"], kind="customer", name=customer["name"],
                           partner=row.partner_id, created_at=now)
            User.create(email=admin_email, account=customer["customer_id"], group=admin_group,
                        created_at=now)
    except pw.IntegrityError:
        raise Conflict("conflict", "the customer or its admin was created meanwhile") from None
    return {"customer_id": customer["customer_id"], "name": customer["name"],
            "partner_id": row.partner_id, "admin_email": admin_email, "created_at": now}
