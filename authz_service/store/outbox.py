"""The mail outbox (R8.3): rows written with the service change, claimed under a lease, then settled."""

from datetime import datetime

import peewee as pw

from authz_service.store.errors import NotFound
from authz_service.store.models import Account, Notification, database
from authz_service.store.rows import dicts

N = Notification
PUBLIC = (N.id, N.event_id, N.event, N.customer_id, N.service_id, N.email, N.subject, N.status,
          N.attempts, N.last_error, N.created_at, N.next_attempt_at, N.sent_at)


def in_transaction() -> bool:
    """True inside database.atomic() on this thread."""
    return database.in_transaction()


def insert(rows: list[dict]) -> int:
    """Queue rows; a row for an (event, email) already queued is left as it is."""
    for start in range(0, len(rows), 100):
        N.insert_many(rows[start : start + 100]).on_conflict_ignore().execute()
    return len(rows)


def _is_postgres() -> bool:
    return isinstance(database.obj, pw.PostgresqlDatabase)


def claim(owner: str, now: datetime, lease_until: datetime, limit: int) -> list[dict]:
    """Lease up to `limit` due rows to `owner` and return them; no two owners get the same row.

    PostgreSQL: the inner SELECT locks with SKIP LOCKED, and the outer WHERE re-checks
    the lease. SQLite: the one UPDATE is atomic, since writes are serialized.
    """
    due = ((N.status == "pending") & (N.next_attempt_at <= now)
           & (N.lease_until.is_null() | (N.lease_until < now)))
    inner = N.select(N.id).where(due).order_by(N.next_attempt_at, N.id).limit(limit)
    if _is_postgres():
        inner = inner.for_update(skip_locked=True)
    N.update(lease_owner=owner, lease_until=lease_until).where(N.id.in_(inner) & due).execute()
    query = N.select().where((N.lease_owner == owner) & (N.status == "pending")).order_by(N.id)
    return dicts(query)


def settle(row_id: int, owner: str, **changes) -> bool:
    """Record one outcome (sent, failed, retry later) and end the lease, if `owner` still holds it."""
    changes.update(attempts=N.attempts + 1, lease_owner=None, lease_until=None)
    return bool(N.update(**changes).where((N.id == row_id) & (N.lease_owner == owner)).execute())


def release(row_ids: list[int], owner: str) -> None:
    """Give rows back unsent (no attempt counted), for any sender to claim again."""
    (N.update(lease_owner=None, lease_until=None)
     .where(N.id.in_(row_ids) & (N.lease_owner == owner)).execute())


def depth(status: str = "pending") -> int:
    """How many rows have this status (the outbox depth gauge)."""
    return N.select().where(N.status == status).count()


def list_for(partner_id: str, status: str | None, before: int | None, limit: int):
    """The partner's notifications, newest first, one page, and whether more follow."""
    if not Account.select().where((Account.id == partner_id) & (Account.kind == "partner")).exists():
        raise NotFound("partner", partner_id)
    query = N.select(*PUBLIC).where(N.partner == partner_id)
    if status is not None:
        query = query.where(N.status == status)
    if before is not None:
        query = query.where(N.id < before)
    rows = dicts(query.order_by(N.id.desc()).limit(limit + 1))
    return rows[:limit], len(rows) > limit

