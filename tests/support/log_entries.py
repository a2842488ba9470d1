"""Decision log entries as the decision core builds them, appended straight to the chain:
the log's unit, tamper and tree tests share them."""

from datetime import datetime

from authz_service import store
from authz_service.log import chain


def entry(n: int = 0, **changes) -> dict:
    """A log entry as decisions.authorize_many builds one."""
    return {"at": datetime(2026, 3, 1, 12, 0, n % 60), "user_email": f"u{n}@acme.example",
            "account_id": "initech", "log_account": "initech", "action": "port.view",
            "resource_type": "port", "resource_id": f"p{n}", "allowed": n % 2 == 0,
            "group": "regular", "rule": "policies/services.csv:1", "reason": "test",
            "session_id": None, "caller": "test", "on_behalf_of_partner": "acme", **changes}


def wire(start: tuple) -> list:
    """A row start as spool records carried it before docs/decisions/050 (the time as text)."""
    return [start[0], str(start[1]), *start[2:]]


def append(entries: list[dict], activity=None) -> list[str]:
    """chain.append in a connection of its own, as a request does."""
    with store.connection():
        return chain.append(entries, activity)
