"""A partner's company contacts (R8.2): name, email and type; not users."""

from authz_service.store.errors import NotFound
from authz_service.store.models import Account, Contact, Notification, database, utcnow

REMOVED = "the contact was removed before the mail was sent"


def _contact_dict(row: Contact) -> dict:
    return {"email": row.email, "name": row.name, "type": row.type}


def _partner_or_404(partner_id: str) -> None:
    if not Account.select().where((Account.id == partner_id) & (Account.kind == "partner")).exists():
        raise NotFound("partner", partner_id)


def put(partner_id: str, email: str, name: str, type_: str) -> tuple[dict, bool]:
    """Create or change one contact; returns (contact, created)."""
    with database.atomic():
        _partner_or_404(partner_id)
        row = Contact.get_or_none((Contact.partner == partner_id) & (Contact.email == email))
        if row is None:
            row = Contact.create(partner=partner_id, email=email, name=name, type=type_)
            return _contact_dict(row), True
        row.name, row.type = name, type_
        row.save()
        return _contact_dict(row), False


def delete(partner_id: str, email: str) -> None:
    """Remove a contact; mail not yet sent to it is not sent (kept as failed). NotFound when gone."""
    with database.atomic():
        _partner_or_404(partner_id)
        gone = Contact.delete().where((Contact.partner == partner_id) & (Contact.email == email)).execute()
        if not gone:
            raise NotFound("contact", f"{partner_id}/{email}")
        now = utcnow()  # a mail being sent right now (leased) is left to finish
        (Notification.update(status="failed", last_error=REMOVED)
         .where((Notification.partner == partner_id) & (Notification.email == email)
                & (Notification.status == "pending")
                & (Notification.lease_until.is_null() | (Notification.lease_until < now))).execute())


def list_for(partner_id: str, after: str | None, limit: int) -> tuple[list[dict], bool]:
    """The partner's contacts by email, one page, and whether more follow."""
    _partner_or_404(partner_id)
    query = Contact.select().where(Contact.partner == partner_id)
    if after is not None:
        query = query.where(Contact.email > after)
    rows = list(query.order_by(Contact.email).limit(limit + 1))
    return [_contact_dict(r) for r in rows[:limit]], len(rows) > limit


def of_type(partner_id: str, type_: str) -> list[dict]:
    """Every contact of the partner with this type, by email."""
    query = (Contact.select().where((Contact.partner == partner_id) & (Contact.type == type_))
             .order_by(Contact.email))
    return [_contact_dict(r) for r in query]
