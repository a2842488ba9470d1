"""The decision log: every decision recorded, hash-chained, before its answer leaves (R7).

Longer than 200 lines: an entry's canonical form, its hash and both ways of appending it (R7.4).

Under `authz serve` each entry is appended to the host's spool file (one write, which
survives the server being killed) and the host's log writer process stores the spool
in large batches (authz_service/log/spool.py, log/server.py); readers call `sync()`
first. Elsewhere (tests, commands) appends use an in-process group commit: the first
waiting thread takes every entry queued so far and commits them in one transaction;
the others wait for that commit (docs/decisions/003-decision-log.md, 007).
"""

import hashlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from authz_service import metrics
from authz_service.give_way import give_way
from authz_service.log import merkle, spool, tree, values
from authz_service.store import decisions, summary
from authz_service.store.entry_form import content
from authz_service.store.models import utcnow

GENESIS = decisions.GENESIS
CONTENT = decisions.CONTENT
_CONTENT_KEYS = frozenset(CONTENT)


def new_id() -> str:
    """A time-ordered unique id: 12 hex digits of milliseconds, then 20 random."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


class _EntryIds:
    """Entry ids as new_id shapes them, without a system call each: milliseconds, then this
    process's random 40 bits, then a counter (unique, not secret; new_id where it must be)."""

    def __init__(self):
        self.prefix, self.counter = os.urandom(5).hex(), itertools.count(int.from_bytes(os.urandom(4), "big"))
        self.head = (-1, "")  # (millisecond, its first 22 digits): one tuple, never half of it

    def next(self) -> str:
        now, head = time.time_ns() // 1_000_000, self.head
        if now != head[0]:
            head = self.head = (now, f"{now:012x}{self.prefix}")
        return f"{head[1]}{next(self.counter) & 0xFFFFFFFFFF:010x}"


_entry_ids = _EntryIds()
os.register_at_fork(after_in_child=lambda: globals().update(_entry_ids=_EntryIds()))


def chain_hash(seq: int, prev_hash: str, body: bytes) -> str:
    """SHA-256 over the entry's place, the previous entry's hash and its content (R7.4)."""
    return hashlib.sha256(b"%d:%s:" % (seq, prev_hash.encode()) + body).hexdigest()


def _filled(entry: dict) -> tuple[dict, bytes]:
    """Fill what a caller may leave out; (entry, hashed content), built unlocked."""
    at = entry.get("at") or utcnow()
    if isinstance(at, datetime) and at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    entry["at"] = at
    if "id" not in entry:
        entry["id"] = _entry_ids.next()
    if not entry.keys() >= _CONTENT_KEYS:  # a decision's entry names them all: one check, not fifteen
        for key in CONTENT:
            entry.setdefault(key, None)
    entry["allowed"] = bool(entry["allowed"])
    values.fit(entry)  # R7.4: no value may stop the log
    return entry, content(entry)


def _prepare(entry: dict) -> tuple[dict, bytes, tuple]:
    """(entry, hashed content, row start): an entry as chain.write takes it."""
    return (*_filled(entry), decisions.row_start(entry))


def _chain(seq: int, prev_hash: str, prepared: list[tuple], edge: merkle.Frontier, done: list) -> list[tuple]:
    """Number and hash prepared entries after (seq, prev_hash), appending each to the tree's
    edge as a leaf (R7.6); their full rows, in order."""
    rows = []
    for entry, body, start in prepared:
        seq += 1
        this = chain_hash(seq, prev_hash, body)
        entry["seq"], entry["prev_hash"], entry["hash"] = seq, prev_hash, this
        leaf, index = merkle.leaf_hash(body), edge.size
        edge.append(leaf, done)
        rows.append((*start, seq, prev_hash, this, index, leaf.hex()))
        prev_hash = this
        give_way()  # the log writer's (decision 054)
    return rows


class LogUnavailable(Exception):
    """The entries could not be committed; no answer may leave without its entry (fail closed)."""


class InsideTransaction(RuntimeError):
    """append() was called inside a transaction of the caller's: a mistake in the code, refused."""


class Ticket:
    __slots__ = ("prepared", "also", "done", "error", "also_failed")

    def __init__(self, prepared: list[tuple], also):
        self.prepared, self.also, self.done = prepared, also, False
        self.error: Exception | None = None
        self.also_failed = False  # the error is `also`'s own, raised as it is


def write(tickets: list[Ticket]) -> None:
    """One transaction: each ticket's `also` (alone undone if it fails), then its entries, chained."""
    with decisions.chain_end() as (seq, last_hash):
        for ticket in tickets:
            if ticket.also is not None:
                try:
                    with decisions.savepoint():
                        ticket.also()
                except Exception as exc:  # that ticket alone fails, nothing of it is kept
                    ticket.error, ticket.also_failed = exc, True
        prepared = [p for t in tickets if t.error is None for p in t.prepared]
        if prepared:
            (edge, _), done = tree.edge_at(seq), list[tuple[int, int, bytes]]()
            decisions.insert(_chain(seq, last_hash, prepared, edge, done))
            tree.save(edge, done)  # the chart's rollup is folded in behind (decision 044)
    metrics.LOG_BATCH.observe(len(prepared))


class _GroupCommit:
    """One writer per process at a time; each batch holds every entry queued before it began."""

    def __init__(self):
        self.queue_lock = threading.Lock()
        self.commit_lock = threading.Lock()
        self.pending: list[Ticket] = []

    def submit(self, ticket: Ticket) -> None:
        """Return once the ticket is committed (by this thread or another), or failed."""
        with self.queue_lock:
            self.pending.append(ticket)
        with self.commit_lock:
            if ticket.done:
                return
            with self.queue_lock:
                batch, self.pending = self.pending, []
            try:
                write(batch)
            except Exception as exc:  # every waiter of this batch fails closed with it
                for waiting in batch:
                    waiting.error = waiting.error or exc
            finally:
                for waiting in batch:
                    waiting.done = True


_writer = _GroupCommit()
os.register_at_fork(after_in_child=lambda: globals().update(_writer=_GroupCommit()))


def append(entries: list[dict], activity: tuple[list[str], datetime] | None = None) -> list[str]:
    """Record entries durably before returning their ids in order (R7.1, R7.4).

    `activity` = (customer ids, time): R5.6 last activity, updated in the same
    transaction as the entries; if that update fails, neither it nor the entries are kept.
    """
    prepared = [_filled(e) for e in entries]  # the row start only where it is stored here
    ids = [entry["id"] for entry, _ in prepared]
    if activity and not activity[0]:
        activity = None  # no customer to update
    if not prepared and activity is None:
        return []
    if decisions.in_transaction():
        # Never inside a caller's transaction (R7.4): the group commit would answer other callers
        # before that transaction commits, and its rollback would take their entries with it.
        raise InsideTransaction("a decision is recorded in its own commit, never inside a caller's transaction")
    host_spool = spool.current()
    if host_spool is not None:
        _to_spool(host_spool, prepared, activity)
        return ids
    also = (lambda: summary.note_activity(*activity)) if activity else None
    ticket = Ticket([(entry, body, decisions.row_start(entry)) for entry, body in prepared], also)
    _writer.submit(ticket)
    if ticket.error is not None:
        if ticket.also_failed:
            raise ticket.error
        raise LogUnavailable(f"the decision log could not commit: {ticket.error}") from ticket.error
    return ids


def append_once(entries: list[dict], keep: Callable[[list[dict]], set[str]]) -> list[str]:
    """Entries committed here, never through the spool, with `keep(entries)` run first in the same
    transaction, under the chain's lock: only the entries whose ids it returns are stored (their
    ids, in order). What `keep` writes commits with them, so a record made once stays once."""
    prepared = [_prepare(e) for e in entries]
    if not prepared:
        return []
    if decisions.in_transaction():
        raise InsideTransaction("a decision is recorded in its own commit, never inside a caller's transaction")
    ticket = Ticket(prepared, None)

    def choose() -> None:
        kept = keep([entry for entry, _, _ in prepared])
        ticket.prepared = [p for p in prepared if p[0]["id"] in kept]

    ticket.also = choose
    _writer.submit(ticket)
    if ticket.error is not None:
        raise LogUnavailable(f"the decision log could not commit: {ticket.error}") from ticket.error
    return [entry["id"] for entry, _, _ in ticket.prepared]


def _to_spool(host_spool: spool.Spool, prepared: list[tuple], activity) -> None:
    # the hashed contents alone: the log writer reads each row back from its content (ingest.py)
    wire = [sorted(set(activity[0])), activity[1].isoformat()] if activity else None
    try:
        host_spool.append([body for _, body in prepared], wire)
    except spool.SpoolError as exc:
        raise LogUnavailable(str(exc)) from exc


def sync() -> None:
    """Before reading the log, or figures the log moves (R5.6): every entry recorded so far
    is in the database. LogUnavailable when that cannot be confirmed (readers answer 503)."""
    host_spool = spool.current()
    if host_spool is None:
        return
    try:
        host_spool.sync()
    except spool.SpoolError as exc:
        raise LogUnavailable(str(exc)) from exc
