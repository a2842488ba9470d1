"""Reading decision log rows in log order for auditors (R7.3, R7.6; docs/decisions/
034-log-export-and-stream.md): an account's entries for an export, one entry by its decision
id, the entries after a position for a stream. Plain reads: never the chain's lock."""

from collections.abc import Iterator
from datetime import datetime

from authz_service.store.decisions import COLUMNS, FIELDS
from authz_service.store.models import Decision
from authz_service.store.rows import tuples


def _rows(query) -> list[dict]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in tuples(query)]


def account_entries(account: str, since: datetime | None, size: int, chunk: int = 2000) -> Iterator[dict]:
    """The entries of `account`'s activity log (R7.2: its own log, as the activity page reads
    it) in log order, recorded at or after `since`, among the first `size` leaves of the tree."""
    after = 0
    while True:
        query = (Decision.select(*FIELDS)
                 .where((Decision.account_id == account) & (Decision.log_account == account)
                        & (Decision.seq > after) & Decision.leaf_index.is_null(False)
                        & (Decision.leaf_index < size)))
        if since is not None:
            query = query.where(Decision.at >= since)
        rows = _rows(query.order_by(Decision.seq).limit(chunk))
        yield from rows
        if len(rows) < chunk:
            return
        after = rows[-1]["seq"]


def by_id(decision_id: str) -> dict | None:
    """The stored entry of this decision id, None when there is none (or it was archived)."""
    found = _rows(Decision.select(*FIELDS).where(Decision.id == decision_id))
    return found[0] if found else None


def after(seq: int, limit: int) -> list[dict]:
    """Up to `limit` entries after entry `seq`, in log order."""
    return _rows(Decision.select(*FIELDS).where(Decision.seq > seq).order_by(Decision.seq).limit(limit))


def newest_seq() -> int:
    """The number of the newest stored entry (0 when none is stored)."""
    return Decision.select(Decision.seq).order_by(Decision.seq.desc()).limit(1).scalar() or 0
