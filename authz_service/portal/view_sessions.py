"""View sessions: acting on behalf of one customer at a time (R6)."""

import secrets
from datetime import timedelta

from authz_service.decide import authorize
from authz_service.decide.gather import gather, load_session
from authz_service.policy import Policy
from authz_service.store import NotFound, directory, sessions
from authz_service.store.models import utcnow


def _live(session_id: str) -> dict:
    """The session, or NotFound when there is none or it has ended."""
    found = load_session(session_id)
    if found is None or found["expires_at"] <= utcnow():
        raise NotFound("session", session_id)
    return found


def create(user: str, ttl_hours: float) -> dict:
    """A new session for a known user, bound to nothing yet."""
    email = user.lower()
    if directory.get_user(email) is None:
        raise NotFound("user", email)
    session_id = secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    sessions.create(session_id, email, expires_at)
    return {"session_id": session_id, "user": email, "customer_id": None, "group": None,
            "expires_at": expires_at}


def bind(policy: Policy, session_id: str, customer_id: str, caller=None) -> dict:
    """R6.1: bind (or rebind) to a customer the user sees; the check lands in its log (R7.2)."""
    session = _live(session_id)
    account = directory.get_account(customer_id)
    if account is None or account["kind"] != "customer":
        raise NotFound("customer", customer_id)
    result = authorize.require(policy, session["user"], "account.view", customer_id,
                               {"type": "session", "id": session_id}, None, caller)
    sessions.bind(session_id, customer_id)
    return {"session_id": session_id, "customer_id": customer_id, "group": result["group"]}


def read(policy: Policy, session_id: str) -> dict:
    """The session and the group its user holds now on the bound customer (R6.2, R6.3)."""
    session = _live(session_id)
    group = None
    if session["customer_id"] is not None:
        facts = gather(session["user"], session["customer_id"]).facts
        group = policy.decide(facts, "account.view").group
    return {"session_id": session_id, "user": session["user"],
            "customer_id": session["customer_id"], "group": group,
            "expires_at": session["expires_at"]}


def end(session_id: str) -> None:
    """Delete the session."""
    sessions.delete(session_id)


