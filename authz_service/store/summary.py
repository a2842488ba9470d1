"""The Customers page figures per customer, kept in step with each event (R5.2-R5.7).

Every event (a service reported, changed or deleted; a decision or login of a
customer's own user) updates its customer's row in the transaction that records
it, so a page reads 50 rows, never a customer's services. Billing starts are the
one thing that changes with time alone: `catch_up` recomputes, exactly, the rows
whose `next_billing_at` has passed before a page is read (docs/decisions/004).
"""

from contextlib import contextmanager
from datetime import datetime

import peewee as pw

from authz_service.store.models import CustomerFigures as F
from authz_service.store.models import Service, database, to_micros
from authz_service.store.rows import tuples

# R5.3-R5.5: which service kinds each count is made of.
COUNTED = {
    "ports": ("port",),
    "vcs": ("virtual_circuit", "cloud_hosted", "cloud_dedicated"),
    "cloud": ("cloud_hosted", "cloud_dedicated"),
}
SORTABLE = ("mrr_cents", "ports", "vcs", "cloud", "last_activity", "last_order")


@contextmanager
def transaction():
    """One transaction around an event and its figures (nested calls join it)."""
    with database.atomic():
        yield


def lock(customer_id: str) -> bool:
    """Take the customer's row for this transaction (events on one customer queue); False if none."""
    return F.update(ports=F.ports).where(F.customer == customer_id).execute() > 0


def add_service(customer_id: str, kind: str, price: int, ordered_at: datetime,
                billing_starts_at: datetime | None, now: datetime) -> None:
    """A new live service: count it, and bill it now or note when it will start (R5.2-R5.7)."""
    changes = {getattr(F, name): getattr(F, name) + 1 for name, kinds in COUNTED.items()
               if kind in kinds}
    ordered = to_micros(ordered_at)
    changes[F.last_order] = pw.Case(None, [(F.last_order.is_null() | (F.last_order < ordered),
                                            ordered)], F.last_order)
    if billing_starts_at is not None and billing_starts_at <= now:
        changes[F.mrr_cents] = F.mrr_cents + price
    elif billing_starts_at is not None:
        starts = to_micros(billing_starts_at)
        changes[F.next_billing_at] = pw.Case(
            None, [(F.next_billing_at.is_null() | (F.next_billing_at > starts), starts)],
            F.next_billing_at)
    F.update(changes).where(F.customer == customer_id).execute()


def _recompute_sql(where: str) -> str:
    """UPDATE every figure from the live services of each row matching `where`."""
    p = database.param
    counts = ", ".join(
        f"COALESCE(SUM(CASE WHEN v.kind IN ({', '.join(repr(k) for k in kinds)}) THEN 1 ELSE 0 END), 0)"
        for kinds in COUNTED.values())
    return (
        f'UPDATE "{F._meta.table_name}" SET (mrr_cents, next_billing_at, {", ".join(COUNTED)}, '
        f"last_order) = (SELECT "
        f"COALESCE(SUM(CASE WHEN v.billing_starts_at <= {p} THEN v.monthly_price_cents ELSE 0 END), 0), "
        f"MIN(CASE WHEN v.billing_starts_at > {p} THEN v.billing_starts_at END), {counts}, "
        f'MAX(v.ordered_at) FROM "{Service._meta.table_name}" AS v '
        f'WHERE v.customer_id = "{F._meta.table_name}".customer_id AND v.deleted_at IS NULL) '
        f"WHERE {where}")


def recompute(customer_ids: list[str], now: datetime) -> None:
    """Every figure but last activity, from the customers' live services as of `now`."""
    if not customer_ids:
        return
    marks = ", ".join([database.param] * len(customer_ids))
    at = to_micros(now)
    database.execute_sql(_recompute_sql(f"customer_id IN ({marks})"), (at, at, *customer_ids))


def rebuild(partner_id: str, now: datetime) -> None:
    """Every figure but last activity for all of a partner's customers (bulk loads, checks)."""
    at = to_micros(now)
    with transaction():
        database.execute_sql(_recompute_sql(f"partner_id = {database.param}"), (at, at, partner_id))


def catch_up(partner_id: str, now: datetime) -> int:
    """Recompute the partner's rows whose next billing start has passed; how many (R5.2)."""
    due = [r[0] for r in tuples(F.select(F.customer).where(
        (F.partner_id == partner_id) & (F.next_billing_at <= to_micros(now))))]
    if due:
        with transaction():
            F.update(ports=F.ports).where(F.customer.in_(due)).execute()  # lock, as events do
            recompute(due, now)
    return len(due)


def note_activity(customer_ids: list[str], at: datetime) -> None:
    """R5.6: a customer's own user did something in it at `at` (one prepared statement)."""
    note_latest(dict.fromkeys(customer_ids, at))


def note_latest(latest: dict[str, datetime]) -> None:
    """R5.6 for several customers at once: each one's latest activity (one executemany)."""
    if latest:
        p = database.param
        sql = (f'UPDATE "{F._meta.table_name}" SET "last_activity" = {p} WHERE "{F.customer.column_name}" = {p} '
               f'AND ("last_activity" IS NULL OR "last_activity" < {p})')
        database.cursor().executemany(sql, [(to_micros(at), c, to_micros(at)) for c, at in sorted(latest.items())])


def read(customer_id: str) -> dict | None:
    """One customer's stored figures (tests and checks)."""
    return F.select().where(F.customer == customer_id).dicts().first()
