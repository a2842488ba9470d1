"""Every value of a decision-log entry made storable before it reaches the log writer (R7.4).

No value may stop the log: a text the service puts into an entry (a caller's id, a target
it builds itself such as `customer/email`, a reason, a rule) is cleaned of what no store
keeps (NUL, which PostgreSQL refuses; lone surrogates, which no UTF-8 encoder takes: both
become U+FFFD) and cut to its column with a visible "…"; an entry so changed is marked
`altered` (docs/decisions/013-log-values.md). The values a decision is *about* (user,
account, session) are never changed: they are refused before deciding (`faithful`).
"""

import re

from authz_service.store.models import Decision

MARK = "…"  # ends a value that was cut to its column
REASON_LIMIT = 2000  # `reason` is an unbounded text column; an entry stays small anyway
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# Each text field of an entry's content and the most characters its column takes.
LIMITS = {name: field.max_length for name, field in Decision._meta.fields.items()
          if getattr(field, "max_length", None) and name not in ("id", "prev_hash", "hash", "leaf_hash")}
LIMITS["reason"] = REASON_LIMIT
_FIELDS = tuple(LIMITS.items())


def faithful(text: str) -> bool:
    """True when a store keeps this text exactly as it is (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(text) is None


def storable(text: str, limit: int) -> str:
    """The text as it can be stored: NUL and lone surrogates as U+FFFD, at most `limit` characters."""
    text = _UNSTORABLE.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - len(MARK)] + MARK


def fit(entry: dict) -> bool:
    """Make each text field of the entry storable, in place; True (and `altered` set) when any changed."""
    altered = bool(entry.get("altered"))
    get = entry.get  # run for every entry recorded: one lookup of the method, not fourteen
    for name, limit in _FIELDS:
        value = get(name)
        if value.__class__ is str and len(value) <= limit and value.isascii() and "\x00" not in value:
            continue  # the common case, without the regex: ASCII holds no surrogate
        if value is None:
            continue
        if not isinstance(value, str):
            value = entry[name] = str(value)  # stored as text, hashed as read back
        stored = storable(value, limit)
        altered = altered or stored != value
        entry[name] = stored
    entry["altered"] = altered
    return altered
