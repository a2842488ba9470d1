"""Services as the provisioning system reports them, each change with its customer's figures."""

from datetime import datetime

from authz_service.store import summary
from authz_service.store.errors import Conflict, NotFound
from authz_service.store.models import Service

COLUMNS = ("kind", "monthly_price_cents", "ordered_at", "billing_starts_at", "created_at",
           "deleted_at")


def _dict(row: Service) -> dict:
    return {"service_id": row.id, "customer_id": row.customer_id,
            **{c: getattr(row, c) for c in COLUMNS}}


def get(customer_id: str, service_id: str) -> dict | None:
    """The customer's service (deleted ones too), or None."""
    row = Service.get_or_none((Service.id == service_id) & (Service.customer == customer_id))
    return _dict(row) if row else None


def create(customer_id: str, service: dict, now: datetime) -> dict:
    """Insert a live service and count it; call inside summary.transaction(). 409 on an id this
    customer already used (ids are per customer: another customer's say nothing here)."""
    if not summary.lock(customer_id):
        raise NotFound("customer", customer_id)
    if get(customer_id, service["service_id"]) is not None:
        raise Conflict("duplicate_id", f"service {service['service_id']} already exists",
                       service_id=service["service_id"])
    row = Service.create(id=service["service_id"], customer=customer_id, kind=service["kind"],
                         monthly_price_cents=service["monthly_price_cents"],
                         ordered_at=service["ordered_at"],
                         billing_starts_at=service.get("billing_starts_at"), created_at=now)
    summary.add_service(customer_id, row.kind, row.monthly_price_cents, row.ordered_at,
                        row.billing_starts_at, now)
    return _dict(row)


def update(customer_id: str, service_id: str, changes: dict, now: datetime) -> dict:
    """Change price or billing start of a live service; call inside summary.transaction()."""
    return _change_live(customer_id, service_id, changes, now)


def delete(customer_id: str, service_id: str, now: datetime) -> dict:
    """Mark a live service deleted (404 if already gone); call inside summary.transaction()."""
    return _change_live(customer_id, service_id, {"deleted_at": now}, now)


def _change_live(customer_id: str, service_id: str, changes: dict, now: datetime) -> dict:
    """Update one live service of the locked customer, then recompute its figures."""
    summary.lock(customer_id)
    query = Service.update(changes).where((Service.id == service_id)
                                          & (Service.customer == customer_id)
                                          & Service.deleted_at.is_null())
    if not query.execute():
        raise NotFound("service", service_id)
    summary.recompute([customer_id], now)
    changed = get(customer_id, service_id)
    if changed is None:  # updated above, in this transaction: it is there
        raise NotFound("service", service_id)
    return changed
