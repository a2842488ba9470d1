"""Service-wide secrets kept in the database, so every replica shares them."""

import secrets as random

from authz_service.store.models import Setting, database

_cache: dict[str, str] = {}


def secret(name: str) -> str:
    """A random secret named `name`, made once and shared by every process."""
    if name not in _cache:
        with database.atomic():
            row = Setting.get_or_none(Setting.key == f"secret:{name}")
            if row is None:
                Setting.insert(key=f"secret:{name}", value=random.token_hex(32)).on_conflict_ignore().execute()
                row = Setting.get(Setting.key == f"secret:{name}")
        _cache[name] = row.value
    return _cache[name]


def forget() -> None:
    """Drop cached secrets (a new database was connected)."""
    _cache.clear()
