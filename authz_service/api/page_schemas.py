"""Shapes for the Customers page, services and logins (docs/api.md "The Customers page", "Services")."""

from datetime import UTC, datetime, timedelta

import marshmallow as ma

from authz_service.api.base import in_range, invalid
from authz_service.api.fields import Rfc3339, UtcDateTime
from authz_service.api.pages import PageQuery, QueryBool, page_of
from authz_service.portal.customers import SORTS
from authz_service.portal.service_events import KINDS

F = ma.fields
SKEW = timedelta(minutes=5)  # a reported time may run this far ahead of our clock
MAX_PRICE = 10**12  # cents a month per service: sums stay far inside 64 bits


def not_ahead(value: datetime) -> None:
    """A time that has happened (a login, an order), allowing for clock skew; else 422."""
    if value > datetime.now(UTC).replace(tzinfo=None) + SKEW:
        raise invalid("must not be in the future")


def known_kind(value: str) -> None:
    """One of docs/api.md's service kinds, else 422."""
    if value not in KINDS:
        raise invalid(f"unknown service kind {value!r}; one of {', '.join(KINDS)}")


def known_sort(value: str) -> None:
    """A page column, optionally with a leading - (R5.11), else 422."""
    if value not in SORTS and not (value.startswith("-") and value[1:] in SORTS):
        raise invalid(f"unknown sort {value!r}; one of {', '.join(SORTS)}, each with an optional -")


class CustomersFilters(ma.Schema):
    user = F.String(required=True)
    hide_inactive = QueryBool(load_default=False)
    sort = F.String(load_default="name", validate=known_sort,
                    metadata={"enum": [w + s for s in SORTS for w in ("", "-")]})


class CustomerRow(ma.Schema):
    customer_id = F.String()
    name = F.String()
    group = F.String(allow_none=True)
    mrr_cents = F.Integer(allow_none=True)
    ports = F.Integer(allow_none=True)
    vcs = F.Integer(allow_none=True)
    cloud = F.Integer(allow_none=True)
    last_activity = UtcDateTime(allow_none=True)
    last_order = UtcDateTime(allow_none=True)


CustomersPage = page_of(CustomerRow)


class CustomersQuery(PageQuery, CustomersFilters):
    pass


class ServiceIn(ma.Schema):
    user = F.String(required=True)
    session = F.String()
    service_id = F.String(required=True)
    kind = F.String(required=True, validate=known_kind, metadata={"enum": list(KINDS)})
    monthly_price_cents = F.Integer(required=True, strict=True, validate=in_range(0, MAX_PRICE))
    ordered_at = Rfc3339(validate=not_ahead)
    billing_starts_at = Rfc3339(allow_none=True)


class ServicePatch(ma.Schema):
    user = F.String(required=True)
    session = F.String()
    monthly_price_cents = F.Integer(strict=True, validate=in_range(0, MAX_PRICE))
    billing_starts_at = Rfc3339(allow_none=True)

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not {"monthly_price_cents", "billing_starts_at"} & set(data):
            raise invalid("nothing to change: give monthly_price_cents or billing_starts_at")


class ServiceQuery(ma.Schema):
    user = F.String(required=True)
    session = F.String()


class ServiceOut(ma.Schema):
    service_id = F.String()
    customer_id = F.String()
    kind = F.String()
    monthly_price_cents = F.Integer()
    ordered_at = UtcDateTime()
    billing_starts_at = UtcDateTime(allow_none=True)


class LoginIn(ma.Schema):
    user = F.String(required=True)
    at = Rfc3339(validate=not_ahead)
