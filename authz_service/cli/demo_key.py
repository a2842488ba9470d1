"""The demo key of `authz demo` / `make run`: one key, kept in a 0600 file next to the database
and reused across runs while it works; a new one (valid DAYS days) once it has expired or been
revoked, the old demo keys revoked then (docs/decisions/018-files-backup-keys.md)."""

import contextlib
import hashlib
import os
from datetime import timedelta
from urllib.parse import urlparse

from authz_service.private_files import read_secret, write_secret
from authz_service.store import NotFound, keys
from authz_service.store.models import utcnow

NAME = "demo"
SCOPES = ["decide", "manage", "audit"]
DAYS = 7


def path(settings) -> str:
    """`<database file>.demo-key` for SQLite; `var/pg-<digest>.demo-key` for PostgreSQL."""
    if urlparse(settings.database_url).scheme == "sqlite":
        return os.path.abspath(settings.database_url[len("sqlite:///"):]) + ".demo-key"
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return os.path.abspath(os.path.join(settings.log_spool_dir or "var", f"pg-{digest}.demo-key"))


def ensure(settings) -> tuple[str, bool]:
    """(the demo key, whether it is new); the store must be connected."""
    kept_at = path(settings)
    kept = (read_secret(kept_at) or "").strip()
    if kept and keys.find(kept) is not None:
        return kept, False
    with contextlib.suppress(NotFound):
        keys.revoke(NAME)  # earlier demo keys, e.g. never-expiring ones of older versions
    key = keys.create(NAME, SCOPES, utcnow() + timedelta(days=DAYS))
    write_secret(kept_at, key + "\n")
    return key, True
