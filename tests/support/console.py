"""Signing in to /console with the Flask test client, and reading what a console call stored."""

import re

from authz_service import store
from authz_service.log import chain
from authz_service.store import keys as store_keys
from authz_service.store.models import CustomerFigures, Decision, Link

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_key(name: str, scopes: list[str]) -> str:
    """A stored key with these scopes."""
    with store.connection():
        return store_keys.create(name, scopes)


def sign_in(client, key: str):
    """Sign in through the form; returns the response (a redirect when it worked)."""
    page = client.get("/console/signin")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post("/console/signin", data={"key": key, "csrf_token": token})


def csrf(client) -> str:
    """The signed-in session's CSRF token, from a console page."""
    return CSRF.search(client.get("/console/policy").get_data(as_text=True)).group(1)


def entries(**where) -> list[dict]:
    """Stored decision log entries matching column=value."""
    chain.sync()
    with store.connection():
        query = Decision.select()
        for column, value in where.items():
            query = query.where(getattr(Decision, column) == value)
        return list(query.dicts())


def links_of(customer: str) -> dict[str, str]:
    """The customer's links: email -> group."""
    with store.connection():
        return {email: group for email, group in Link.select(Link.user, Link.group).where(Link.customer == customer).tuples()}


def last_activity(customer: str):
    """R5.6's figure for the customer."""
    chain.sync()
    with store.connection():
        return CustomerFigures.get(CustomerFigures.customer == customer).last_activity
