"""Console sessions, server-side: the cookie carries a random id, the table only its SHA-256."""

import hashlib
from datetime import datetime

from authz_service.store.models import ConsoleSession, utcnow


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def create(session_id: str, key_hash: str, key_name: str, expires_at: datetime) -> None:
    """Keep a new session; sessions already past their expiry go at the same time."""
    ConsoleSession.delete().where(ConsoleSession.expires_at <= utcnow()).execute()
    ConsoleSession.create(id_hash=_hash(session_id), key_hash=key_hash, key_name=key_name,
                          expires_at=expires_at)


def find(session_id: str) -> dict | None:
    """The live session's key digest and name, or None (unknown, signed out, expired)."""
    row = ConsoleSession.get_or_none(ConsoleSession.id_hash == _hash(session_id))
    if row is None or row.expires_at <= utcnow():
        return None
    return {"key_hash": row.key_hash, "key_name": row.key_name}


def delete(session_id: str) -> None:
    """Sign-out: the session is gone, so any copy of its cookie is useless."""
    ConsoleSession.delete().where(ConsoleSession.id_hash == _hash(session_id)).execute()
