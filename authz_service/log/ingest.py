"""Moving spooled decision-log records into the database (docs/decisions/007-log-spool.md).

`Ingester` reads one spool file from an offset on and stores its complete records, up to
MAX_BATCH per transaction, numbered and chained as any append (R7.4); when the database
refuses a batch for a value in it, `store_batch` stores it record by record and sets the
refused records aside (`log/rejected.py`, docs/decisions/013-log-values.md).
"""

import contextlib
import logging
import os
import time
from datetime import datetime

from authz_service import store
from authz_service.give_way import give_way
from authz_service.log import chain
from authz_service.log.rejected import refused_for_values, set_aside
from authz_service.log.spool import name_moved
from authz_service.log.spool_records import entry_ids, records
from authz_service.store import decisions, summary
from authz_service.store.entry_form import encoded

log = logging.getLogger("authz.log_writer")
MAX_BATCH = 2000
READ_BYTES = 4 << 20


def _prepared(record: dict) -> list[tuple[bytes, tuple]]:
    """(hashed content, row start) of each entry of a spool record, in either form (spool.py)."""
    if "entries" in record:
        return [(encoded(content), decisions.row_from_content(content)) for content in record["entries"]]
    return [(body.encode(), decisions.row_from_wire(values)) for *values, body in record["rows"]]


def _ticket(batch: list[dict], skip: set[str]) -> chain.Ticket:
    """Every entry of the batch in one ticket: the batch is stored whole or not at all (store_batch).
    A record is up to 100 entries (an evaluations batch): the writer gives way after each (054)."""
    prepared: list[tuple] = []
    for record in batch:
        prepared += [({}, body, start) for body, start in _prepared(record) if start[0] not in skip]
        give_way()
    return chain.Ticket(prepared, None)


def _latest_activity(batch: list[dict]) -> dict[str, datetime]:
    """R5.6 for the whole batch: each active customer's latest time (one update per batch)."""
    latest: dict[str, datetime] = {}
    for record in batch:
        if record.get("activity"):
            ids, at = record["activity"][0], datetime.fromisoformat(record["activity"][1])
            for customer in ids:
                if customer not in latest or latest[customer] < at:
                    latest[customer] = at
    return latest


def store_records(batch: list[dict], dedupe: bool) -> None:
    """One transaction for the batch; with dedupe, entries already stored are left out."""
    skip: set[str] = set()
    if dedupe:
        skip = decisions.existing_ids([entry_id for record in batch for entry_id in entry_ids(record)])
    store.database.connect(reuse_if_open=True)
    tickets = [_ticket(batch, skip)]
    latest = _latest_activity(batch)
    if latest:

        def note() -> None:  # the entries are acknowledged already: a failed figure never drops them
            try:
                with decisions.savepoint():
                    summary.note_latest(latest)
            except Exception as exc:
                log.warning("last activity not updated for %s: %s", sorted(latest), exc)

        tickets.insert(0, chain.Ticket([], note))  # a ticket of its own: were it to fail, it alone fails
    chain.write(tickets)


def store_batch(batch: list[dict], dedupe: bool, path: str) -> None:
    """Store a batch in one transaction; when the database refuses it for a value, store its
    records one by one and set aside those it refuses (a poisoned record never stops the log)."""
    try:
        store_records(batch, dedupe)
        return
    except Exception as exc:
        if not refused_for_values(exc):
            raise
        log.warning("a batch of %d decision log records was refused (%s); storing them one by one",
                    len(batch), exc)
    for record in batch:
        try:  # dedupe: a retry after a failure in this loop must not store a record twice
            store_records([record], dedupe=True)
        except Exception as exc:
            if not refused_for_values(exc):
                raise
            set_aside(path, record, exc)


class Ingester:
    """Moves one spool file's records into the database, from `offset` on."""

    def __init__(self, path: str, dedupe: bool):
        self.path, self.dedupe, self.offset = path, dedupe, 0
        self.moved_at = 0.0
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def step(self) -> int:
        """Store every complete record appended so far; how many were stored."""
        stored = 0
        while True:
            data = os.pread(self.fd, READ_BYTES, self.offset)
            found, used = records(data)
            for start in range(0, len(found), MAX_BATCH):
                store_batch(found[start:start + MAX_BATCH], self.dedupe, self.path)
            stored += len(found)
            self.offset += used
            if len(data) < READ_BYTES or not used:
                return stored

    def move_aside(self) -> "Ingester":
        """Rotation: rename this file aside (appenders move to a new one at the old name within
        REOPEN_SECONDS); this ingester keeps reading it. A new ingester for the name is returned."""
        name, moved = self.path, f"{self.path}.r{time.time_ns()}"
        if not name_moved(self.path, self.fd):
            os.rename(self.path, moved)
        self.path, self.moved_at = moved, time.monotonic()
        return Ingester(name, dedupe=False)

    def close(self, remove: bool) -> None:
        """Close; remove the file when everything in it is stored."""
        if remove and os.fstat(self.fd).st_size == self.offset:
            with contextlib.suppress(FileNotFoundError):  # removed by hand already
                os.unlink(self.path)
        os.close(self.fd)


def store_files(paths: list[str]) -> int:
    """Store every record of these spool files whose writer is gone, leaving out entries
    already stored; remove each file once read to its end. How many records were read."""
    stored = 0
    for path in paths:
        if os.path.exists(path):
            ingester = Ingester(path, dedupe=True)
            stored += ingester.step()
            ingester.close(remove=True)
    return stored
