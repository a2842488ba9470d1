"""Writing and reading decision log rows (R7): chained appends, pages by index, the chain's walk.

Longer than 200 lines: every query of the decision_log table in one place, beside the chain-end lock.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import peewee as pw

from authz_service.give_way import give_way
from authz_service.store import activity_rollup, log_stats, partitions
from authz_service.store.entry_form import CONTENT, FACTS
from authz_service.store.models import Decision, LogHead, database
from authz_service.store.rows import tuples

GENESIS = "0" * 64
# The chain's own columns come last: a row is built before the chain is locked, then completed.
# `altered` (docs/decisions/013-log-values.md) is hashed only when set, so older entries verify.
# The tree's columns (migration 7, docs/decisions/030-signed-checkpoints.md) follow the chain's.
# The R9.7 facts and policy version (migration 8, 033) follow `altered` in a row's start.
COLUMNS = (*CONTENT, "altered", *FACTS, "seq", "prev_hash", "hash", "leaf_index", "leaf_hash")
FIELDS = [Decision._meta.fields[name] for name in COLUMNS]
_INSERT: dict[str, str] = {}
# The longest text each decision field can be recorded with (R7.1): a decision about a
# longer user, account or session could not be logged, so it is refused before deciding.
RECORDABLE = {"user": Decision.user_email.max_length, "account": Decision.account_id.max_length,
              "session": Decision.session_id.max_length}


_in_process = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}


def _is_sqlite() -> bool:
    return isinstance(database.obj, pw.SqliteDatabase)


@contextmanager
def _writers_queue(path: str):
    """Log writers of every process on one SQLite file queue on a file lock (woken in order),
    not in SQLite's busy handler, which sleeps and retries."""
    with _in_process:
        if not path or path == ":memory:":
            yield
            return
        key = (os.getpid(), path)
        if key not in _lock_files:
            _lock_files[key] = os.open(path + "-log.lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(_lock_files[key], fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(_lock_files[key], fcntl.LOCK_UN)


@contextmanager
def chain_end():
    """Lock the chain for one writer and yield its last (seq, hash); commit on leaving.

    SQLite: BEGIN IMMEDIATE; PostgreSQL: a row lock on the head row.
    """
    with _one_writer():
        yield _read_head(not _is_sqlite())


@contextmanager
def _one_writer():
    """A transaction; on SQLite, the write lock taken at BEGIN, after the other log writers."""
    if not _is_sqlite():
        with database.atomic():
            yield
    else:
        with _writers_queue(database.database), database.atomic("IMMEDIATE"):
            yield


def fold_rollup(most: int) -> tuple[int, int]:
    """Count up to `most` entries stored after the Activity rollup's mark into it and move the
    mark past them, in one transaction; (how many, how many are still after it) (decision 044).
    The log writer calls it behind itself; PostgreSQL replicas take turns on the mark's row,
    never on the chain's."""
    if not activity_rollup.is_kept():
        return 0, 0
    with _one_writer():
        through = activity_rollup.mark(lock=not _is_sqlite())
        last = Decision.select(pw.fn.MAX(Decision.seq)).scalar() or 0
        upto = min(last, through + most)
        if upto > through:
            activity_rollup.add_range(through, upto, chunk=activity_rollup.FOLD_CHUNK)
            activity_rollup.set_mark(upto)
    return max(upto - through, 0), max(last - max(upto, through), 0)


HEAD = ('SELECT h.archived_seq, h.archived_hash, d.seq, d.hash FROM "log_head" AS h LEFT JOIN '
        '(SELECT seq, hash FROM "decision" ORDER BY seq DESC LIMIT 1) AS d ON 1 = 1 WHERE h.id = 1')


def _read_head(lock: bool) -> tuple[int, str]:
    """(seq, hash) of the chain's last entry, live or archived; locks the chain on PostgreSQL.

    The lock comes first, in its own statement, so the read after it sees every commit
    made by the writer it waited for.
    """
    if lock:
        database.execute_sql('SELECT id FROM "log_head" WHERE id = 1 FOR UPDATE')
    row = database.execute_sql(HEAD).fetchone()
    if row is None:  # a new (or emptied) database: the chain starts here
        LogHead.insert(id=1, archived_seq=0, archived_hash=GENESIS).on_conflict_ignore().execute()
        return _read_head(lock)
    return (row[2], row[3]) if row[2] is not None and row[2] > row[0] else (row[0], row[1])


def row_start(entry: dict) -> tuple:
    """An entry's content columns, as the database takes them (before it is chained)."""
    values = (*(entry[c] for c in CONTENT), bool(entry.get("altered")), entry.get("facts"),
              entry.get("policy_version"))
    if _is_sqlite():  # as peewee writes a datetime, so it reads it back the same
        values = (values[0], str(values[1]), *values[2:])
    return values


def row_from_content(content: list) -> tuple:
    """The row start of an entry from its hashed content (entry_form.content: the CONTENT values,
    the time in ISO 8601, then `altered` and the R9.7 facts where recorded), as this database takes it."""
    return row_from_wire([content[0], str(datetime.fromisoformat(content[1])), *content[2:]])


def row_from_wire(values: list) -> tuple:
    """A row start as a spool record before 050 sent it (the time as text), as this database takes it."""
    if len(values) == len(CONTENT):  # written before `altered` existed
        values = [*values, False]
    if len(values) == len(CONTENT) + 1:  # written before the R9.7 facts existed
        values = [*values, None, None]
    if len(values) != len(CONTENT) + 1 + len(FACTS):
        raise ValueError(f"a row has {len(CONTENT) + 1 + len(FACTS)} columns, not {len(values)}")
    if _is_sqlite():
        return tuple(values)
    return (values[0], datetime.fromisoformat(values[1]), *values[2:])


def existing_ids(ids: list[str]) -> set[str]:
    """Which of these entry ids are stored already."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join([database.param] * len(chunk))
        found.update(r[0] for r in database.execute_sql(f'SELECT id FROM "decision" WHERE id IN ({marks})', chunk))
    return found


INSERT_CHUNK = 32  # rows an executemany on SQLite: ~0.3 ms of the writer
_NAMES = ", ".join(f'"{f.column_name}"' for f in FIELDS)


def insert(rows: list[tuple]) -> None:
    """Insert full rows (row_start + seq, prev_hash, hash), inside chain_end: one COPY on
    PostgreSQL (less CPU per row than executemany, in the writer and in the server:
    docs/performance.md), executemany on SQLite, INSERT_CHUNK rows a call so that the log
    writer can give its core way between them (decision 054)."""
    if not _is_sqlite():
        partitions.ensure()  # this month's and the next month's partitions (migration 11)
        with database.cursor().copy(f'COPY "decision" ({_NAMES}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = _INSERT.get(database.param)
    if sql is None:
        marks = ", ".join([database.param] * len(FIELDS))
        sql = _INSERT[database.param] = f'INSERT INTO "decision" ({_NAMES}) VALUES ({marks})'
    cursor = database.cursor()
    for start in range(0, len(rows), INSERT_CHUNK):
        cursor.executemany(sql, rows[start:start + INSERT_CHUNK])
        give_way()


def savepoint():
    """A nested transaction: what runs in it is undone alone if it fails."""
    return database.atomic()


def in_transaction() -> bool:
    """True when this thread is inside a transaction (log/chain.py refuses to append there)."""
    return database.in_transaction()


def anchor() -> tuple[int, str]:
    """(seq, hash) of the last archived entry: where the live chain starts ((0, GENESIS) if none)."""
    query = LogHead.select(LogHead.archived_seq, LogHead.archived_hash).where(LogHead.id == 1)
    row = query.tuples().first()
    return tuple(row) if row else (0, GENESIS)


def walk(after_seq: int = 0, chunk: int = 5000) -> Iterator[dict]:
    """Every live entry with seq > after_seq, in chain order, read a chunk at a time."""
    while True:
        rows = tuples(Decision.select(*FIELDS).where(Decision.seq > after_seq)
                      .order_by(Decision.seq).limit(chunk))
        for row in rows:
            yield dict(zip(COLUMNS, row, strict=True))
        if len(rows) < chunk:
            return
        after_seq = rows[-1][COLUMNS.index("seq")]


def drop_through(expected: tuple[int, str], seq: int, last_hash: str, before: datetime | None = None) -> int:
    """Delete live entries up to `seq` (archived first) and move the anchor there; on the
    partitioned table, first drop each month wholly archived and ended by `before`. The number
    of rows deleted one by one. Refused when another archiving moved the anchor since it was
    read as `expected`."""
    with chain_end():
        if anchor() != tuple(expected):
            raise RuntimeError("the log was archived meanwhile; nothing dropped")
        if activity_rollup.is_kept():  # the chart counts the live log only (decisions 042, 044)
            through = activity_rollup.mark(lock=not _is_sqlite())
            activity_rollup.add_range(expected[0], min(through, seq), sign=-1)
            activity_rollup.set_mark(max(through, seq))  # what is dropped and not yet folded, never
        if before is not None and partitions.is_partitioned(database.obj):
            partitions.drop_archived(before, seq)
        gone = Decision.delete().where(Decision.seq <= seq).execute()
        LogHead.update(archived_seq=seq, archived_hash=last_hash).where(LogHead.id == 1).execute()
    return gone


def page(filters: dict, after: tuple | None, limit: int) -> tuple[list[dict], bool]:
    """Entries matching `filters`, newest first (at, seq), after a position; (items, has_more)."""
    query = log_stats.narrow(Decision.select(*FIELDS), filters)  # the chart's conditions too
    if after is not None:
        query = query.where(pw.Tuple(Decision.at, Decision.seq) < pw.Tuple(*after))
    rows = tuples(query.order_by(Decision.at.desc(), Decision.seq.desc()).limit(limit + 1))
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[:limit]], len(rows) > limit
