"""On SQLite: each thread keeps the facts rows and API key rows it has read, for as long as no
change to the tables a decision reads has committed (R4.6; docs/decisions/048-sqlite-kept-facts.md).

Migration 15 gives SQLite what migration 2 gave PostgreSQL: a trigger on each of those tables
(account, user, link, api_key: facts_cache.WATCHED) that adds one to `facts_epoch` in the
changing transaction, whoever changes them (the service, `authz keys revoke`, a person with the
sqlite3 shell). Before each use a thread reads the epoch; a different epoch empties what it
keeps. The epoch is read before the row, so a row read while a change commits is kept under
the older epoch and dropped at the next use; a change's epoch commits with the change, so once
a call that changed a user, an account, a link or a key has returned, no thread answers from a
row older than it. Inside a transaction (which may see its own uncommitted changes) nothing is
kept or used.

Before this, keys were kept while `PRAGMA data_version` was unchanged (docs/decisions/029), and
every commit of the decision log's writer changed it: at a few thousand decisions a second
nothing stayed kept.
"""

import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar, cast

from authz_service.store.models import database

WATCHED = ("account", "user", "link", "api_key")  # what a decision reads; facts_cache's triggers use it too
EVENTS = ("INSERT", "UPDATE", "DELETE")
MAX_KEPT = 10_000  # rows a thread keeps before it starts over (unknown users are kept too)
_EPOCH = "SELECT epoch FROM facts_epoch WHERE id = 1"

Row = TypeVar("Row")


def trigger_name(table: str, event: str) -> str:
    return f"authz_facts_{table}_{event.lower()}"


def install_triggers(db) -> None:
    """Migration 15 (SQLite): the epoch moves with every row changed in a watched table."""
    for table in WATCHED:
        for event in EVENTS:
            db.execute_sql(f'CREATE TRIGGER IF NOT EXISTS "{trigger_name(table, event)}" AFTER {event} '
                           f'ON "{table}" BEGIN UPDATE facts_epoch SET epoch = epoch + 1 WHERE id = 1; END')


class _Kept(threading.local):
    """This thread's rows, valid while its connection and the epoch are the ones they were read
    under; `once`: inside one_read(), whether the epoch has been read there (then it is reused)."""

    def __init__(self):
        self.connection, self.epoch, self.rows, self.once = None, None, {}, None


_kept = _Kept()


@contextmanager
def one_read():
    """Within, a thread reads the epoch once, at its first read, and answers the later reads from
    the rows kept under it: a decision request (api/fast.py) reads the caller's key, then the
    facts, as of its start. A change that commits in between is one the request overlapped, and
    the next request sees it. A one_read inside another is part of it: a worker's turn
    (serving/inline.py) serves every request the poll reported, each sent before that first read.
    On leaving the outermost, each use reads it again."""
    if _kept.once is not None:  # inside another one_read: its epoch
        yield
        return
    _kept.once = False
    try:
        yield
    finally:
        _kept.once = None


def read_again() -> None:
    """Inside one_read: the next use reads the epoch anew, and the later ones use that read."""
    if _kept.once is not None:
        _kept.once = False


def read_through(key: tuple, load: Callable[[], Row], keep: Callable[[Row], bool]) -> tuple[Row, str]:
    """(row, source) as facts_cache.read_through: "hit" from this thread's rows, "miss" read and
    kept, "off" read and not kept (inside a transaction, or a row `keep` refuses)."""
    if database.in_transaction():
        return load(), "off"
    connection = database.connection()
    if _kept.once and _kept.connection is connection:
        epoch = _kept.epoch  # read at this request's first read (one_read)
    else:
        epoch = connection.execute(_EPOCH).fetchone()
        _kept.once = None if _kept.once is None else epoch is not None
    if epoch is None:  # no epoch row: no change would show, so nothing is kept (fail closed)
        return load(), "off"
    if _kept.connection is not connection or _kept.epoch != epoch or len(_kept.rows) >= MAX_KEPT:
        _kept.connection, _kept.epoch, _kept.rows = connection, epoch, {}
    elif key in _kept.rows:
        return cast(Row, _kept.rows[key]), "hit"
    row = load()
    if not keep(row):
        return row, "off"
    _kept.rows[key] = row
    return row, "miss"
