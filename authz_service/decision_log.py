"""The decision log: every decision recorded, hash-chained, before its answer leaves (R7).

Appends use a group commit: the first waiting thread of a process becomes the writer,
takes every entry queued so far and commits them in one transaction; the others wait
for that commit (docs/decisions/003-decision-log.md).
"""

import hashlib
import json
import os
import threading
import time
from datetime import UTC, datetime

from authz_service import metrics
from authz_service.store import decisions as store
from authz_service.store.models import utcnow

GENESIS = store.GENESIS
CONTENT = store.CONTENT
_ALLOWED = CONTENT.index("allowed")


def new_id() -> str:
    """A time-ordered unique id: 12 hex digits of milliseconds, then 20 random."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def canonical_at(value) -> str:
    """A time as the chain hashes it: naive UTC, ISO 8601 with microseconds."""
    return value if isinstance(value, str) else value.isoformat(timespec="microseconds")


def content(entry: dict) -> bytes:
    """The entry's R7.1 fields as the chain hashes them: a JSON array in CONTENT order."""
    values = [canonical_at(entry["at"]) if k == "at" else entry[k] for k in CONTENT]
    values[_ALLOWED] = bool(values[_ALLOWED])
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(seq: int, prev_hash: str, body: bytes) -> str:
    """SHA-256 over the entry's place, the previous entry's hash and its content (R7.4)."""
    return hashlib.sha256(b"%d:%s:" % (seq, prev_hash.encode()) + body).hexdigest()


def _prepare(entry: dict) -> tuple[dict, bytes, tuple]:
    """Fill what a caller may leave out; (entry, hashed content, row start), built unlocked."""
    at = entry.get("at") or utcnow()
    if isinstance(at, datetime) and at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    entry["at"] = at
    entry.setdefault("id", new_id())
    for key in CONTENT:
        entry.setdefault(key, None)
    entry["allowed"] = bool(entry["allowed"])
    return entry, content(entry), store.row_start(entry)


def _chain(seq: int, prev_hash: str, prepared: list[tuple]) -> list[tuple]:
    """Number and hash prepared entries after (seq, prev_hash); their full rows, in order."""
    rows = []
    for entry, body, start in prepared:
        seq += 1
        this = chain_hash(seq, prev_hash, body)
        entry["seq"], entry["prev_hash"], entry["hash"] = seq, prev_hash, this
        rows.append((*start, seq, prev_hash, this))
        prev_hash = this
    return rows


class LogUnavailable(Exception):
    """The entries could not be committed; no answer may leave without its entry (fail closed)."""


class _Ticket:
    __slots__ = ("prepared", "also", "done", "error", "also_failed")

    def __init__(self, prepared: list[tuple], also):
        self.prepared, self.also, self.done, self.error = prepared, also, False, None
        self.also_failed = False


def _write(tickets: list[_Ticket], nested: bool = False) -> None:
    """One transaction: each ticket's `also` (alone undone if it fails), then its entries, chained."""
    with store.chain_end(nested) as (seq, last_hash):
        for ticket in tickets:
            if ticket.also is not None:
                try:
                    with store.savepoint():
                        ticket.also()
                except Exception as exc:  # that ticket alone fails, nothing of it is kept
                    ticket.error, ticket.also_failed = exc, True
        prepared = [p for t in tickets if t.error is None for p in t.prepared]
        store.insert(_chain(seq, last_hash, prepared))
    metrics.LOG_BATCH.observe(len(prepared))


class _GroupCommit:
    """One writer per process at a time; each batch holds every entry queued before it began."""

    def __init__(self):
        self.queue_lock = threading.Lock()
        self.commit_lock = threading.Lock()
        self.pending: list[_Ticket] = []

    def submit(self, ticket: _Ticket) -> None:
        """Return once the ticket is committed (by this thread or another), or failed."""
        with self.queue_lock:
            self.pending.append(ticket)
        with self.commit_lock:
            if ticket.done:
                return
            with self.queue_lock:
                batch, self.pending = self.pending, []
            try:
                _write(batch)
            except Exception as exc:  # every waiter of this batch fails closed with it
                for waiting in batch:
                    waiting.error = waiting.error or exc
            finally:
                for waiting in batch:
                    waiting.done = True


_writer = _GroupCommit()
os.register_at_fork(after_in_child=lambda: globals().update(_writer=_GroupCommit()))


def append(entries: list[dict], also=None) -> list[str]:
    """Record entries durably before returning their ids in order (R7.1, R7.4).

    `also()`, when given, runs in the same transaction (e.g. figures that must move
    with the entries); if it raises, neither it nor the entries are kept.
    """
    ticket = _Ticket([_prepare(e) for e in entries], also)
    if not ticket.prepared and also is None:
        return []
    if store.in_transaction():  # the caller's transaction commits them, with its own changes
        _write([ticket], nested=True)
    else:
        _writer.submit(ticket)
    if ticket.also_failed:
        raise ticket.error
    if ticket.error is not None:
        raise LogUnavailable(f"the decision log could not commit: {ticket.error}") from ticket.error
    return [entry["id"] for entry, _, _ in ticket.prepared]
