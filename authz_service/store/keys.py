"""API keys: only a SHA-256 of each key is stored, never the key itself."""

import hashlib
import secrets
from datetime import datetime

from authz_service.store import facts_cache
from authz_service.store.errors import NotFound
from authz_service.store.models import ApiKey, database, utcnow

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
    """As `find`, from the stored digest (the console's cookie keeps only that).

    A worker of `authz serve` on PostgreSQL keeps the rows of keys it has seen in memory,
    coherently: a revoked key is refused by every worker once the revoking call has
    returned (store/facts_cache.py). On SQLite each thread keeps them until a change to a
    key, a user, an account or a link commits (store/kept_facts.py): a revoked key is refused
    at once. Expiry is checked at each use.
    """
    row, _ = facts_cache.read_through(("api_key", key_hash), lambda: _row(key_hash),
                                      lambda row: row is not None)  # unknown keys are not kept (no flooding)
    return _live(row)


def _row(key_hash: str) -> tuple | None:
    """(name, scopes, expires_at, revoked_at) of the key with this digest, or None.

    Plain SQL, as store/facts.py reads facts: every authorize asks this, and building the
    query through the ORM cost ~140 µs a call (docs/performance.md, 2026-11-25)."""
    sql = _FIND.get(database.param)
    if sql is None:
        sql = _FIND[database.param] = (f'SELECT name, scopes, expires_at, revoked_at FROM "{ApiKey._meta.table_name}" '
                                       f'WHERE key_hash = {database.param}')
    row = database.execute_sql(sql, (key_hash,)).fetchone()
    if row is None:
        return None
    name, scopes, expires_at, revoked_at = row
    return name, scopes, ApiKey.expires_at.python_value(expires_at), revoked_at


_FIND: dict[str, str] = {}


def _live(row: tuple | None) -> dict | None:
    """The key's name and scopes, or None when unknown, revoked or expired."""
    if row is None:
        return None
    name, scopes, expires_at, revoked_at = row
    if revoked_at is not None or (expires_at is not None and expires_at <= utcnow()):
        return None
    return {"name": name, "scopes": frozenset(scopes.split(","))}


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
