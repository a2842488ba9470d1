"""View sessions (R6.1): one customer bound at a time, with an expiry."""

from datetime import datetime

from authz_service.store.errors import NotFound
from authz_service.store.models import ViewSession


def create(session_id: str, email: str, expires_at: datetime) -> None:
    """A new session, bound to nothing yet."""
    ViewSession.create(id=session_id, user_email=email, expires_at=expires_at)


def bind(session_id: str, customer_id: str) -> None:
    """Bind (or rebind: replace) the session's customer."""
    ViewSession.update(customer_id=customer_id).where(ViewSession.id == session_id).execute()


def delete(session_id: str) -> None:
    """End a session; NotFound when there is none."""
    if not ViewSession.delete().where(ViewSession.id == session_id).execute():
        raise NotFound("session", session_id)
