"""Errors the store raises for the layers above to translate."""

import peewee

# The database cannot answer (down, locked too long, read-only, disk full): callers get 503.
Unavailable = peewee.OperationalError
# Any error of the database driver, as peewee wraps it.
DatabaseError = peewee.DatabaseError
IntegrityError = peewee.IntegrityError


class NotFound(Exception):
    """A named row does not exist."""

    def __init__(self, what: str, key: str):
        super().__init__(f"no such {what}: {key}")
        self.what = what
        self.key = key


class Conflict(Exception):
    """A write that contradicts what is stored (duplicate, wrong home account)."""

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class Unconfirmed(Exception):
    """A change is stored, but a server keeping facts in memory did not confirm it in time
    (store/facts_cache.py): the caller gets 503 and should not rely on the change yet."""
