"""Decision-log records the database refuses for their values, kept in `<spool>.rejected`.

docs/decisions/013-log-values.md: a poisoned record is set aside, with why, and never stops
the log; an unavailable store is not a refusal (the records stay in the spool).
"""

import json
import logging
import os
from datetime import UTC, datetime

from authz_service import metrics
from authz_service.log.spool import spool_of
from authz_service.log.spool_records import entry_ids

log = logging.getLogger("authz.log_writer")

# A database error about the values of a record (DB-API DataError: too long, NUL, bad
# encoding; IntegrityError: a NOT NULL or unique column) or a record that cannot be read
# as one. Anything else (a lost connection, a locked or broken database) leaves the
# records in the spool, to be tried again on the next tick.
_VALUE_ERRORS = {"DataError", "IntegrityError"}


def refused_for_values(exc: BaseException) -> bool:
    """True when the database (or the record's own shape) refuses these values, not the store."""
    if isinstance(exc, (ValueError, TypeError, KeyError, IndexError)):
        return True  # UnicodeError is a ValueError
    return any(kind.__name__ in _VALUE_ERRORS for kind in type(exc).__mro__)


def rejected_path(path: str) -> str:
    """Where a spool's refused records are kept: `<spool>.rejected`."""
    return spool_of(path) + ".rejected"


def set_aside(path: str, record: dict, exc: BaseException) -> None:
    """Keep a refused record, with why, in `<spool>.rejected` (0600); count and log it."""
    note = {"error": f"{type(exc).__name__}: {exc}".replace("\n", " "), "record": record,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    data = (json.dumps(note, separators=(",", ":"), ensure_ascii=True) + "\n").encode()
    fd = os.open(rejected_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    metrics.LOG_REJECTED.inc()
    ids = entry_ids(record)
    log.error("decision log record refused by the database, set aside in %s: entries %s: %s",
              rejected_path(path), ids, note["error"])
