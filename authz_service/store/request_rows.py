"""Requests for access (R10.2): stored, listed, and moved out of `pending` once, by a conditional
update, so two admins deciding at once cannot both win (docs/decisions/035-time-bound-access.md)."""

import uuid
from datetime import datetime, timedelta

import peewee as pw

from authz_service.store import directory
from authz_service.store.errors import Conflict, NotFound
from authz_service.store.models import AccessRequest, Link, database, to_micros

WAIT = timedelta(days=7)  # R10.2: a request waits at most this long
STATUSES = ("pending", "approved", "denied", "cancelled", "expired")


def as_dict(row: AccessRequest, now: datetime) -> dict:
    """The request as the API shows it: a pending request past its wait is expired."""
    status = "expired" if row.status == "pending" and row.expires_at <= now else row.status
    return {"request_id": row.id, "partner_id": row.partner, "customer_id": row.customer_id,
            "requester": row.requester, "group": row.group, "reason": row.reason,
            "duration_hours": row.duration_hours, "status": status, "created_at": row.created_at,
            "expires_at": row.expires_at, "decided_by": row.decided_by, "decided_at": row.decided_at,
            "decision_reason": row.decision_reason, "granted_group": row.granted_group,
            "granted_hours": row.granted_hours}


def create(partner_id: str, customer_id: str, requester: str, group: str, reason: str, hours: int,
           now: datetime) -> AccessRequest:
    """A new pending request; call inside the transaction that also queues its mail (R8.3)."""
    return AccessRequest.create(id=uuid.uuid4().hex, partner=partner_id, customer=customer_id,
                                requester=requester, group=group, reason=reason, duration_hours=hours,
                                status="pending", created_at=now, expires_at=now + WAIT)


def get(request_id: str) -> AccessRequest:
    row = AccessRequest.get_or_none(AccessRequest.id == request_id) if len(request_id) <= 32 else None
    if row is None:
        raise NotFound("access request", request_id)
    return row


def _status_is(status: str, now: datetime):
    micros = to_micros(now)
    if status == "pending":
        return (AccessRequest.status == "pending") & (AccessRequest.expires_at > micros)
    if status == "expired":
        return (AccessRequest.status == "expired") | (
            (AccessRequest.status == "pending") & (AccessRequest.expires_at <= micros))
    return AccessRequest.status == status


def page(partner_id: str, status: str | None, requester: str | None, after: str | None, limit: int,
         now: datetime) -> tuple[list[dict], bool]:
    """The partner's requests, newest id order is not meaningful: by id (random) for stable paging."""
    where = AccessRequest.partner == partner_id
    if status is not None:
        where &= _status_is(status, now)
    if requester is not None:
        where &= AccessRequest.requester == requester
    if after is not None:
        where &= AccessRequest.id > after
    rows = list(AccessRequest.select().where(where).order_by(AccessRequest.id).limit(limit + 1))
    return [as_dict(r, now) for r in rows[:limit]], len(rows) > limit


def require_pending(row: AccessRequest, now: datetime) -> None:
    """409 unless the request is pending (decided, cancelled or past its wait: not any more)."""
    current = as_dict(row, now)["status"]
    if current != "pending":
        raise Conflict("not_pending", f"the request is {current}, not pending: it can no longer be "
                       "decided or cancelled", request_id=row.id, status=current)


def _close(request_id: str, now: datetime, **changes) -> None:
    """pending -> another status, only if still pending and not past its wait; else 409 (of two
    deciding at once, the second finds it decided)."""
    done = (AccessRequest.update(**changes)
            .where((AccessRequest.id == request_id) & _status_is("pending", now)).execute())
    if not done:
        require_pending(get(request_id), now)
        raise Conflict("not_pending", "the request changed meanwhile", request_id=request_id)


def approve(request_id: str, by: str, group: str, hours: int, now: datetime, settle) -> dict:
    """Approved and its expiring link made, in one transaction (R10.2): both or neither.
    `settle(existing link or None, granted end)` says whether the link is written (True) or a
    link the requester holds already is kept as it is (False); it raises to refuse both."""
    ends = now + timedelta(hours=hours)
    with database.atomic():
        _close(request_id, now, status="approved", decided_by=by, decided_at=now, granted_group=group,
               granted_hours=hours)
        row = get(request_id)
        existing = _held_link(row.requester, row.customer_id)
        if existing is not None and not settle(existing, ends):  # kept as it is: nothing written
            link, _ = directory.put_link(row.requester, row.customer_id, existing["group"], directory.KEEP)
        else:
            link, _ = directory.put_link(row.requester, row.customer_id, group, ends)
    return {**as_dict(row, now), "link": link}


def _held_link(email: str, customer_id: str) -> dict | None:
    """The requester's link to the customer, locked on PostgreSQL until the approval commits."""
    query = Link.select(Link.group, Link.expires_at).where((Link.user == email) & (Link.customer == customer_id))
    if not isinstance(database.obj, pw.SqliteDatabase):
        query = query.for_update()
    row = query.first()
    return None if row is None else {"group": row.group, "expires_at": row.expires_at}


def deny(request_id: str, by: str, reason: str, now: datetime) -> dict:
    with database.atomic():
        _close(request_id, now, status="denied", decided_by=by, decided_at=now, decision_reason=reason)
        return as_dict(get(request_id), now)


def cancel(request_id: str, by: str, now: datetime) -> dict:
    with database.atomic():
        _close(request_id, now, status="cancelled", decided_by=by, decided_at=now)
        return as_dict(get(request_id), now)


def unrecorded_expiries(now: datetime, stale_prefix: str, limit: int) -> list[AccessRequest]:
    """Requests past their wait whose expiry is not yet in the log: pending ones, and expired ones
    whose claim is older than `stale_prefix` (an entry id's leading milliseconds) and not confirmed."""
    due = ((AccessRequest.status == "pending") & (AccessRequest.expires_at <= to_micros(now))) | (
        (AccessRequest.status == "expired") & (AccessRequest.expiry_logged == False)  # noqa: E712 (SQL)
        & (AccessRequest.expired_entry < stale_prefix))
    return list(AccessRequest.select().where(due).order_by(AccessRequest.expires_at).limit(limit))


def claim_expiries(rows: list[tuple[AccessRequest, str]], now: datetime) -> list[tuple[AccessRequest, str]]:
    """Mark each expired with the id of the entry that will record it, once (R10.2); those won."""
    won = []
    with database.atomic():
        for row, entry_id in rows:
            held = (AccessRequest.status == "pending") if row.status == "pending" else (
                (AccessRequest.status == "expired") & (AccessRequest.expired_entry == row.expired_entry))
            if (AccessRequest.update(status="expired", expired_entry=entry_id)
                    .where((AccessRequest.id == row.id) & (AccessRequest.expires_at <= to_micros(now)) & held)
                    .execute()):
                won.append((row, entry_id))
    return won


def first_expiry_records(entry_ids: list[str]) -> set[str]:
    """Of these entry ids, those whose request still names it as its expiry's entry and has no
    expiry recorded yet, each marked recorded now: run under the log's lock, in the transaction
    that stores the entries (chain.append_once), so a sweeper whose claim was taken over while
    it stalled stores nothing (R10.2; decision 044)."""
    return {entry_id for entry_id in entry_ids
            if AccessRequest.update(expiry_logged=True)
            .where((AccessRequest.expired_entry == entry_id) & (AccessRequest.expiry_logged == False))  # noqa: E712
            .execute()}


def expiries_logged(entry_ids: list[str]) -> None:
    AccessRequest.update(expiry_logged=True).where(AccessRequest.expired_entry.in_(entry_ids)).execute()
