"""Partners, customers, users and links: the directory the decisions read (R1, R2, R4)."""

import peewee as pw

from authz_service import usernames
from authz_service.store.errors import Conflict, NotFound
from authz_service.store.models import (
    AccessRequest,
    Account,
    Link,
    User,
    ViewSession,
    database,
    to_micros,
    utcnow,
)
from authz_service.store.rows import tuples


def account_dict(row: Account) -> dict:
    """An account as the API shows it."""
    return {"id": row.id, "kind": row.kind, "name": row.name, "partner_id": row.partner_id,
            "created_at": row.created_at}


def user_dict(row: User) -> dict:
    """A user as the API shows it."""
    return {"email": row.email, "account_id": row.account_id, "group": row.group,
            "created_at": row.created_at}


def get_account(account_id: str) -> dict | None:
    """The account, or None."""
    row = Account.get_or_none(Account.id == account_id)
    return account_dict(row) if row else None


def get_user(email: str) -> dict | None:
    """The user (email compared lower-case, R2.2), or None."""
    row = User.get_or_none(User.email == email.lower())
    return user_dict(row) if row else None


def put_partner(partner_id: str, name: str) -> tuple[dict, bool]:
    """Create or rename a partner; returns (partner, created)."""
    with database.atomic():
        row = Account.get_or_none(Account.id == partner_id)
        if row is None:
            return account_dict(Account.create(id=partner_id, kind="partner", name=name)), True
        if row.kind != "partner":
            raise Conflict("account_kind_conflict", f"{partner_id} is a customer account, not a partner")
        row.name = name
        row.save()
        return account_dict(row), False


def put_customer(customer_id: str, name: str, partner_id: str) -> tuple[dict, bool]:
    """Create a customer owned by `partner_id` (R1.3); ownership never changes."""
    with database.atomic():
        partner = Account.get_or_none((Account.id == partner_id) & (Account.kind == "partner"))
        if partner is None:
            raise NotFound("partner", partner_id)
        row = Account.get_or_none(Account.id == customer_id)
        if row is None:
            row = Account.create(id=customer_id, kind="customer", name=name, partner=partner_id)
            return account_dict(row), True
        if row.kind != "customer" or row.partner_id != partner_id:
            raise Conflict("duplicate_id", f"account {customer_id} already exists elsewhere")
        row.name = name
        row.save()
        return account_dict(row), False


def put_user(email: str, account_id: str, kind: str, group: str) -> tuple[dict, bool]:
    """Create a user in their home account or change their group there (R2; R2.3 look-alikes refused)."""
    email = usernames.stored_form(email)
    with database.atomic():
        account = Account.get_or_none((Account.id == account_id) & (Account.kind == kind))
        if account is None:
            raise NotFound(kind, account_id)
        row = User.get_or_none(User.email == email)
        if row is None:
            return user_dict(User.create(email=email, account=account_id, group=group)), True
        if row.account_id != account_id:
            raise Conflict("email_taken", f"{email} already has another home account",
                           account_id=row.account_id)
        row.group = group
        row.save()
        return user_dict(row), False


def delete_user(email: str) -> None:
    """Remove a user, their links and their view sessions (a user re-created under the same
    email starts with none, R6.1), and cancel their pending requests for access (R10.2: nobody
    is left to link); their log entries keep the email (R7.4)."""
    with database.atomic():
        if User.get_or_none(User.email == email.lower()) is None:
            raise NotFound("user", email)
        (AccessRequest.update(status="cancelled", decided_at=utcnow(), decision_reason="the requester was removed")
         .where((AccessRequest.requester == email.lower()) & (AccessRequest.status == "pending")).execute())
        Link.delete().where(Link.user == email.lower()).execute()
        ViewSession.delete().where(ViewSession.user_email == email.lower()).execute()
        User.delete().where(User.email == email.lower()).execute()


KEEP = object()  # put_link: leave an existing link's end as it is


def put_link(email: str, customer_id: str, group: str, expires_at=KEEP) -> tuple[dict, bool]:
    """Create or change one link; the caller has checked who may be linked (R4.4) and has had an
    ended link's end recorded (R10.1). `expires_at`: a time, None (no end) or KEEP (a new link
    gets none).

    An insert that does nothing on conflict, then an update: concurrent PUTs of the same link
    queue on its key and all succeed (a PUT is idempotent), never a 409 from a lost race."""
    email = usernames.stored_form(email)
    this = (Link.user == email) & (Link.customer == customer_id)
    ends = {} if expires_at is KEEP else {"expires_at": expires_at}
    for _ in range(3):  # a link revoked between the insert and the update is inserted again
        with database.atomic():
            inserted = (Link.insert(user=email, customer=customer_id, group=group, linked_at=utcnow(), **ends)
                        .on_conflict_ignore().as_rowcount().execute())
            if not inserted:
                _update_link(this, group, ends)
            row = Link.get_or_none(this)
            if row is not None:
                return _link_dict(row), bool(inserted)
    raise Conflict("conflict", "the link was changed and revoked meanwhile; retry")


def _update_link(this, group: str, ends: dict) -> None:
    """Only what differs: an unchanged PUT writes nothing (no facts change to wait for, R4.6)."""
    Link.update(group=group).where(this & (Link.group != group)).execute()
    if ends:
        value = ends["expires_at"]
        differs = (Link.expires_at.is_null(False) if value is None
                   else (Link.expires_at.is_null() | (Link.expires_at != to_micros(value))))
        # a new end clears a sweeper's claim on the old one (store/link_ends.py)
        Link.update(expires_at=value, end_entry=None).where(this & differs).execute()


def _link_dict(row: Link) -> dict:
    return {"email": row.user_email, "customer_id": row.customer_id, "group": row.group,
            "linked_at": row.linked_at, "expires_at": row.expires_at}


def list_accounts(kind: str | None = None, partner_id: str | None = None, limit: int = 500) -> list[dict]:
    """Accounts by id, optionally of one kind or one partner (the console's pickers)."""
    query = Account.select().order_by(Account.id).limit(limit)
    if kind:
        query = query.where(Account.kind == kind)
    if partner_id:
        query = query.where(Account.partner == partner_id)
    return [account_dict(r) for r in query]


def users_of(account_id: str, limit: int = 500) -> list[dict]:
    """An account's home users by email."""
    query = User.select().where(User.account == account_id).order_by(User.email).limit(limit)
    return [user_dict(r) for r in query]


def count(model_name: str) -> int:
    """Rows in one table (for tests and readiness)."""
    return {"account": Account, "user": User, "link": Link}[model_name].select().count()


def group_holders(groups) -> dict[str, int]:
    """{group: how many users hold it, at home or through a link}, for the groups given (R9.6)."""
    wanted = list(groups)
    held: dict[str, int] = {}
    if not wanted:
        return held
    for model in (User, Link):
        query = (model.select(model.group, pw.fn.COUNT(pw.SQL("*")).alias("n"))
                 .where(model.group.in_(wanted)).group_by(model.group))
        for group, n in tuples(query):
            held[group] = held.get(group, 0) + n
    return held
