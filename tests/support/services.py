"""Reporting services and logins over the test client (docs/api.md "Services"), with the bootstrap key."""

from datetime import timedelta

from authz_service.store.models import utcnow
from tests.support.auth import bearer


def iso(when) -> str:
    """A stored time as the API writes it: ISO 8601 with a Z."""
    return when.isoformat() + "Z"


def ago(days: float) -> str:
    """That many days before now, as the API writes times."""
    return iso(utcnow() - timedelta(days=days))


def add(client, service_id, kind="port", price=1000, customer="initech", user="ivy@initech.example",
        **extra):
    """POST a service for a customer (docs/api.md "Services")."""
    body = {"user": user, "service_id": service_id, "kind": kind, "monthly_price_cents": price, **extra}
    return client.post(f"/v1/customers/{customer}/services", json=body, headers=bearer())


def delete(client, service_id, customer="initech", user="ivy@initech.example", **query):
    """DELETE a customer's service."""
    return client.delete(f"/v1/customers/{customer}/services/{service_id}",
                         query_string={"user": user, **query}, headers=bearer())


def login(client, account, user, **body):
    """POST a login to an account (R5.6 activity)."""
    return client.post(f"/v1/accounts/{account}/logins", json={"user": user, **body}, headers=bearer())

