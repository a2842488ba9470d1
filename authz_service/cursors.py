"""Signed page cursors: a caller cannot forge or alter one (docs/api.md lists, R5.10).

They are signed, not encrypted: each holds only values its list already showed the caller.
"""

from itsdangerous import BadData, URLSafeSerializer

from authz_service.store import settings


class InvalidCursor(Exception):
    """The cursor was not made by this service for this list."""


def _serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret("cursor"), salt=f"cursor:{kind}")


def encode(kind: str, position) -> str:
    """A cursor for the list `kind`, resuming after `position` (any JSON value)."""
    return _serializer(kind).dumps(position)


def page(kind: str, cursor: str | None, fetch, key) -> tuple[list, str | None]:
    """One page of a list: fetch(after) -> (items, more); the next cursor resumes after key(last)."""
    items, more = fetch(decode(kind, cursor))
    return items, (encode(kind, key(items[-1])) if more else None)


def decode(kind: str, cursor: str | None):
    """The position inside a cursor (None for no cursor); InvalidCursor if tampered."""
    if cursor is None:
        return None
    try:
        return _serializer(kind).loads(cursor)
    except (BadData, UnicodeError, ValueError):
        raise InvalidCursor("the cursor is not one this service gave for this list") from None
