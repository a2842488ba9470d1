"""Response field types shared by the schemas."""

import re
from datetime import UTC, datetime

import marshmallow as ma

from authz_service.api.base import invalid


def rfc3339(value: datetime) -> str:
    """UTC, RFC 3339, with a Z (docs/api.md conventions)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text + "Z"


def time_left(value: datetime | None, now: datetime | None = None) -> str:
    """How long until `value` (naive UTC), for a person: "no end", "ended", "2 d 3 h", "5 min 2 s"
    (R10.1: the console shows a link's time left)."""
    if value is None:
        return "no end"
    seconds = int((value - (now or datetime.now(UTC).replace(tzinfo=None))).total_seconds())
    if seconds <= 0:
        return "ended"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) + " left"


class UtcDateTime(ma.fields.DateTime):
    """A DateTime written as 2026-11-24T12:00:00Z."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else rfc3339(value)


EARLIEST_YEAR, LATEST_YEAR = 1970, 9998  # in UTC: no offset can push a time out of range
# RFC 3339's date-time (section 5.6), ASCII digits only: datetime.fromisoformat alone also takes
# ISO 8601's other forms (20270101T000000Z, week dates 2027-W01-1, no seconds, +0100), which the
# contract does not (docs/decisions/037-strict-input-forms.md).
RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?")


def parse_time(value) -> datetime:
    """An RFC 3339 time with an offset, as naive UTC; else the 422 (400 for a non-string).

    Years outside 1970-9998 after conversion are refused, so an offset near year 1 or
    9999 is a 422, never an overflow (docs/decisions/016-hostile-input.md)."""
    if not isinstance(value, str):
        raise ma.ValidationError("must be a string")
    try:
        if not RFC3339.fullmatch(value):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise invalid("must carry an offset, e.g. Z")
    except ValueError:
        raise invalid("must be an RFC 3339 time, e.g. 2026-11-24T12:00:00Z") from None
    outside = invalid(f"must fall in the years {EARLIEST_YEAR}-{LATEST_YEAR} (UTC)")
    try:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise outside from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise outside
    return parsed


class Rfc3339(ma.fields.DateTime):
    """A time in a request: parse_time, kept as naive UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_time(value)
