"""A decision's facts, and the API keys that ask for it, kept in a worker's memory on
PostgreSQL, coherent across workers and replicas (R4.6; docs/decisions/011-facts-cache.md).

Longer than 200 lines: the lease, the notices and the barrier are one protocol, read together.

Every change to the tables a decision reads (user, account, link, api_key), made by the
service or by anyone with SQL, passes a trigger that numbers it (the `facts_epoch` row)
and announces the number when it commits (NOTIFY authz_facts).

A caching process (a worker of `authz serve`) is a *holder*:
- it holds a lease in `facts_holder`, renewed every RENEW_SECONDS for LEASE_SECONDS, and
  answers from its cache only while the lease is valid by its own clock, counted from
  before it asked (so it ends no later than the database's);
- on a notice, or when a renewal reads a newer committed number, it empties its cache,
  then records that number as `seen`.

The connection that committed a change waits, before its call returns, until every holder
with a live lease has seen the change's number (`barrier`). So once a call that changed a
user, an account, a link or a key has returned, no holder answers from rows older than
it: each has emptied its cache, or its lease has run out and it asks the database again.

A read that raced a change is not kept: the cache's generation is noted before the
database is asked, and the answer is stored only if no emptying happened in between.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TypeVar, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import peewee as pw
import psycopg

from authz_service.store import kept_facts
from authz_service.store.errors import Unconfirmed
from authz_service.store.models import database

log = logging.getLogger("authz.facts_cache")

CHANNEL = "authz_facts"
SETTING = "authz.facts_epoch"  # set by the trigger, for its transaction, to the change's number
LEASE_SECONDS = 2.0
RENEW_SECONDS = 0.5
MARGIN_SECONDS = 0.25  # the local lease ends this much before the database's
BARRIER_SECONDS = 10.0  # a change waits at most this long for the holders (then 503)
MAX_ENTRIES = 100_000  # a full cache is emptied (decisions read the database meanwhile)
MISS = object()
APPLICATION = "authz-facts-cache"  # the holders' connections, as pg_stat_activity names them

# The trigger, installed by migration 2 on PostgreSQL. BEFORE ... FOR EACH STATEMENT: the
# epoch row is locked before any row of the statement, so writers take locks in one order.
TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION authz_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE e bigint;
BEGIN
  INSERT INTO facts_epoch (id, epoch) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET epoch = facts_epoch.epoch + 1 RETURNING epoch INTO e;
  PERFORM set_config('{SETTING}', e::text, true);
  PERFORM pg_notify('{CHANNEL}', e::text);
  RETURN NULL;
END $$
"""
WATCHED = kept_facts.WATCHED  # what store/facts.py and store/keys.py read, one list for both databases


def install_triggers(db) -> None:
    """The numbering trigger on each table a decision reads (PostgreSQL): it names its table
    with the schema, so a writer's search_path does not matter, and fires ALWAYS, so also for
    logical replication's changes (session_replication_role = replica)."""
    schema = '"' + db.execute_sql("SELECT current_schema()").fetchone()[0].replace('"', '""') + '"'
    db.execute_sql(TRIGGER_FUNCTION.replace("INSERT INTO facts_epoch", f"INSERT INTO {schema}.facts_epoch"))
    for table in WATCHED:
        db.execute_sql(f'CREATE OR REPLACE TRIGGER authz_facts_changed BEFORE INSERT OR UPDATE OR DELETE '
                       f'OR TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION authz_facts_changed()')
        db.execute_sql(f'ALTER TABLE "{table}" ENABLE ALWAYS TRIGGER authz_facts_changed')


def changed_in_transaction(db) -> int | None:
    """Before COMMIT, on the transaction's own connection (so also behind a transaction
    pooler): the number of the last facts change this transaction made, if any."""
    cursor = db.cursor()
    cursor.execute(f"SELECT current_setting('{SETTING}', true)")
    value = cursor.fetchone()[0]
    return int(value) if value else None


def barrier(db, epoch: int) -> None:
    """Return once every holder with a live lease has seen `epoch` (or later). Unconfirmed after
    BARRIER_SECONDS (a holder renews its lease but does not confirm: it should not happen),
    or when the database stops answering: the change is stored either way."""
    deadline, pause = time.monotonic() + BARRIER_SECONDS, 0.001
    while True:
        try:
            cursor = db.cursor()
            # A holder whose `seen` is ahead of the committed number saw another history (the
            # database restored under it): it must first start over, so it is waited for too.
            cursor.execute("SELECT count(*) FROM facts_holder WHERE lease_until > extract(epoch FROM "
                           "clock_timestamp()) AND (seen < %s OR seen > (SELECT epoch FROM facts_epoch "
                           "WHERE id = 1))", (epoch,))
            waiting = cursor.fetchone()[0]
        except psycopg.Error as exc:
            log.error("could not check the holders after a change: %s", exc)
            raise Unconfirmed("the change is stored, but the database stopped answering before every "
                              "server confirmed it") from exc
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise Unconfirmed(f"the change is stored, but not every server confirmed it within "
                              f"{BARRIER_SECONDS:g} s")
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


class Holder:
    """This process's cache of facts rows, and the thread that keeps its lease."""

    def __init__(self, url: str):
        self.url = url
        self.id = f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.lock = threading.Lock()
        self.entries: dict = {}
        self.generation = 0
        self.epoch: int | None = None  # the committed number the entries are not older than
        self.valid_until = 0.0  # time.monotonic(): the cache answers only before this
        self.stopping = threading.Event()
        self.renewed = False  # this session has renewed at least once
        self.thread = threading.Thread(target=self._run, name="facts-cache", daemon=True)

    # -- the request threads' side
    def lookup(self, key) -> tuple[object, int | None]:
        """(row or MISS, generation to store a fresh row under; None: do not store)."""
        if time.monotonic() >= self.valid_until:
            return MISS, None
        generation = self.generation
        return self.entries.get(key, MISS), generation

    def store(self, key, row, generation: int) -> None:
        with self.lock:
            if generation != self.generation or time.monotonic() >= self.valid_until:
                return  # emptied since the read began, or the lease ended: the row may be old
            if len(self.entries) >= MAX_ENTRIES:
                self.entries = {}
            self.entries[key] = row

    # -- the holder thread's side
    def _empty(self, epoch: int | None) -> None:
        with self.lock:
            self.entries = {}
            self.generation += 1
            self.epoch = epoch if self.epoch is None or epoch is None else max(self.epoch, epoch)

    def _renew(self, conn) -> None:
        """Record the lease and what this cache has seen; learn the committed number, and if
        it is newer, empty the cache and record again. The local lease is extended only by a
        renewal that recorded the committed number."""
        for _ in range(5):
            sent, seen = time.monotonic(), self.epoch
            committed = conn.execute(
                "INSERT INTO facts_holder (id, seen, lease_until) "
                "VALUES (%s, %s, extract(epoch FROM clock_timestamp()) + %s) "
                "ON CONFLICT (id) DO UPDATE SET seen = EXCLUDED.seen, lease_until = EXCLUDED.lease_until "
                "RETURNING (SELECT epoch FROM facts_epoch WHERE id = 1)",
                (self.id, -1 if seen is None else seen, LEASE_SECONDS)).fetchone()[0] or 0
            if seen is not None and committed == seen:
                self.valid_until = sent + LEASE_SECONDS - MARGIN_SECONDS
                return
            # Newer: empty for it. Older than what this cache has seen (the database was
            # restored, say): start over from nothing, then record it as seen.
            self._empty(committed if seen is None or committed > seen else None)
        # Changes kept coming: the lease was not extended here; the next renewal tries again.

    def _session(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5, application_name=APPLICATION,
                             keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3) as conn:
            conn.execute("SET statement_timeout = '5s'")  # a stuck statement ends the session, not the cache's care
            conn.execute(f"LISTEN {CHANNEL}")
            self._empty(None)  # whatever was kept before this connection listened is unknown
            self._renew(conn)
            conn.execute("DELETE FROM facts_holder WHERE lease_until < extract(epoch FROM clock_timestamp()) - 60")
            next_renewal = time.monotonic() + RENEW_SECONDS
            self.renewed = True
            while not self.stopping.is_set():
                wait = max(0.0, next_renewal - time.monotonic())
                # A notice only says "renew now": the number recorded is the one read from the
                # database, never a notice's (anyone may NOTIFY this channel).
                notices = list(conn.notifies(timeout=wait, stop_after=1))
                if notices or time.monotonic() >= next_renewal:
                    self._renew(conn)
                    next_renewal = time.monotonic() + RENEW_SECONDS
            self.valid_until = 0.0
            conn.execute("DELETE FROM facts_holder WHERE id = %s", (self.id,))

    def _run(self) -> None:
        pause = 0.1
        while not self.stopping.is_set():
            self.renewed = False
            try:
                self._session()
            except Exception as exc:  # the database is away: no cache until a new lease
                self.valid_until = 0.0
                log.warning("facts cache off until PostgreSQL answers again: %s", exc)
            if self.renewed:
                pause = 0.1  # the session had worked: reconnect at once
            self.stopping.wait(pause)
            pause = min(pause * 2, 5.0)

    def start(self) -> "Holder":
        self.thread.start()
        return self

    def stop(self, wait: float = 1.0) -> None:
        """Stop answering from memory; give the lease back (within `wait` s), so that changes
        need not wait for it to run out."""
        self.stopping.set()
        self.valid_until = 0.0
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(wait)


_holder: Holder | None = None


Row = TypeVar("Row")


def read_through(key: tuple, load: Callable[[], Row],
                 keep: Callable[[Row], bool]) -> tuple[Row, str]:
    """(row, source): from this process's cache ("hit"), else `load()`, kept when `keep(row)`
    ("miss"), or not kept ("off": no cache or no lease, a read inside a transaction, which
    may see its own uncommitted changes, or a row `keep` refuses). On SQLite, each thread's
    own (kept_facts.py)."""
    holder = _holder
    if holder is None:
        if isinstance(database.obj, pw.SqliteDatabase):  # each thread keeps its own (kept_facts.py)
            return kept_facts.read_through(key, load, keep)
        return load(), "off"
    cached, generation = holder.lookup(key)
    if cached is not MISS:
        return cast(Row, cached), "hit"  # what `load` returned for this key earlier
    row = load()
    if generation is None or database.in_transaction() or not keep(row):
        return row, "off"
    holder.store(key, row, generation)
    return row, "miss"


POOL_PARAMETERS = {"max_connections", "stale_timeout", "timeout"}  # the pool's, not libpq's


def libpq_url(url: str) -> str:
    """AUTHZ_DATABASE_URL as psycopg takes it: without the connection pool's parameters."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in POOL_PARAMETERS]
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query, quote_via=quote)))


def start(url: str) -> Holder:
    """Keep facts in this process (a worker of `authz serve` on PostgreSQL)."""
    global _holder
    if _holder is None:
        _holder = Holder(libpq_url(url)).start()
    return _holder


def stop() -> None:
    global _holder
    if _holder is not None:
        _holder.stop()
        _holder = None


os.register_at_fork(after_in_child=lambda: globals().update(_holder=None))
