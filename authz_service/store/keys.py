"""API keys: only a SHA-256 of each key is stored, never the key itself."""

import hashlib
import secrets
from datetime import datetime

from authz_service.store.errors import NotFound
from authz_service.store.models import ApiKey, utcnow

PREFIX = "azk_"


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def create(name: str, scopes: list[str], expires_at: datetime | None = None) -> str:
    """Make a new random key; the plaintext is returned once and never kept."""
    key = PREFIX + secrets.token_urlsafe(32)
    ApiKey.create(name=name, key_hash=digest(key), scopes=",".join(sorted(set(scopes))),
                  expires_at=expires_at)
    return key


def find(key: str) -> dict | None:
    """The live key's name and scopes, or None (unknown, revoked, expired)."""
    return find_by_digest(digest(key))


def find_by_digest(key_hash: str) -> dict | None:
    """As `find`, from the stored digest (the console's cookie keeps only that)."""
    row = ApiKey.get_or_none(ApiKey.key_hash == key_hash)
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return {"name": row.name, "scopes": frozenset(row.scopes.split(","))}


def revoke(name: str) -> int:
    """Revoke every live key with this name; returns how many."""
    count = (ApiKey.update(revoked_at=utcnow())
             .where((ApiKey.name == name) & ApiKey.revoked_at.is_null()).execute())
    if not count:
        raise NotFound("key", name)
    return count


def list_keys() -> list[dict]:
    """Every key's name, scopes and state (never the key)."""
    return [{"name": r.name, "scopes": r.scopes, "created_at": r.created_at,
             "expires_at": r.expires_at, "revoked_at": r.revoked_at}
            for r in ApiKey.select().order_by(ApiKey.id)]
