"""The store: the only package that imports peewee (docs/architecture.md).

Everything above it receives plain dicts and tuples, never model objects.
"""

from authz_service.store.db import close, connect, connection, database, is_ready, migrate, release
from authz_service.store.errors import (
           Conflict,
           DatabaseError,
           IntegrityError,
           NotFound,
           Unconfirmed,
)

__all__ = ["connect", "migrate", "connection", "database", "close", "release", "is_ready", "Conflict", "NotFound",
           "DatabaseError", "IntegrityError", "Unconfirmed"]
