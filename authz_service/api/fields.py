"""Response field types shared by the schemas."""

from datetime import UTC, datetime

import marshmallow as ma


def rfc3339(value: datetime) -> str:
    """UTC, RFC 3339, with a Z (docs/api.md conventions)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


class UtcDateTime(ma.fields.DateTime):
    """A DateTime written as 2026-11-24T12:00:00Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else rfc3339(value)
