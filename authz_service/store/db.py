"""Opening the database named by AUTHZ_DATABASE_URL and migrating it (SQLite or PostgreSQL)."""

import threading
from contextlib import contextmanager
from urllib.parse import urlparse

import peewee as pw
from playhouse.db_url import connect as connect_url
from playhouse.db_url import register_database
from playhouse.postgres_ext import PooledPsycopg3Database

from authz_service.private_files import private_file
from authz_service.store import facts_cache, migrations, partitions, settings
from authz_service.store.errors import Unconfirmed
from authz_service.store.models import database

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer
    "synchronous": "normal",  # a commit survives a killed process (WAL); see docs
    "foreign_keys": 1,
    "busy_timeout": 10000,
}


# Each worker thread holds at most one connection during a request and returns it after.
POOL_OPTIONS = "max_connections=32&stale_timeout=300&timeout=10"


class PostgresPool(PooledPsycopg3Database):
    """peewee's pool for psycopg 3, its checks unchanged (docs/decisions/026-pool-and-workers.md).

    After a transaction that changed the facts a decision reads commits, the call waits
    until every process that caches them has let them go (facts_cache.barrier; R4.6). A
    write outside a transaction is given one, so that this holds for it too.
    """

    def __init__(self, *args, **kwargs):
        self._committed = threading.local()  # per thread: a commit's confirmation just failed
        super().__init__(*args, **kwargs)

    def commit(self):
        with pw.__exception_wrapper__:  # type: ignore[attr-defined]  # peewee's stubs omit it
            changed = facts_cache.changed_in_transaction(self)
        super().commit()
        if changed is not None:
            try:
                facts_cache.barrier(self, changed)  # its errors say the change is stored (Unconfirmed)
            except Unconfirmed:
                self._committed.pending = True  # peewee's ROLLBACK that follows has nothing to undo
                raise

    def begin(self, *args, **kwargs):
        self._committed.pending = False
        return super().begin(*args, **kwargs)

    def rollback(self):
        if getattr(self._committed, "pending", False):
            # After a commit whose confirmation failed: a ROLLBACK on a connection that may be
            # dead would replace Unconfirmed (the change is stored) with "nothing changed".
            self._committed.pending = False
            return
        super().rollback()

    def execute_sql(self, sql, params=None, named_cursor=None):
        if self.in_transaction() or sql.lstrip()[:6].upper() == "SELECT":
            return super().execute_sql(sql, params, named_cursor)
        with self.atomic():  # a write outside a transaction: in one, so that commit() sees its changes
            return super().execute_sql(sql, params, named_cursor)


register_database(PostgresPool, "authz+psycopg3+pool")


def is_postgres(url: str) -> bool:
    """True for a postgres:// or postgresql:// AUTHZ_DATABASE_URL."""
    return urlparse(url).scheme in ("postgres", "postgresql")


def _open(url: str, busy_timeout_ms: int | None = None) -> pw.Database:
    """Build a peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            private_file(path)  # 0600 in a 0700 folder; SQLite gives -wal and -shm the same mode
        pragmas = {**SQLITE_PRAGMAS, **({"busy_timeout": busy_timeout_ms} if busy_timeout_ms else {})}
        # Transactions take the write lock when they begin (BEGIN IMMEDIATE): in WAL mode one
        # that reads first and writes later cannot wait for the lock and fails at once when
        # another writer committed in between; taking it up front waits (busy_timeout) instead.
        return pw.SqliteDatabase(path or ":memory:", pragmas=pragmas, check_same_thread=False,
                                 lock_type="IMMEDIATE")
    if is_postgres(url):
        pooled = url.replace(parsed.scheme + "://", "authz+psycopg3+pool://", 1)
        if "max_connections" not in pooled:
            pooled += ("&" if "?" in pooled else "?") + POOL_OPTIONS
        return connect_url(pooled)
    raise ValueError(f"unsupported database URL scheme: {parsed.scheme!r}")


def connect(url: str, busy_timeout_ms: int | None = None, migrate: bool = False) -> pw.Database:
    """Bind the models to `url`; with `migrate`, bring the schema up to date first (under the
    migration lock, store/migrations.py). Opens no connection, except to an in-memory database."""
    db = _open(url, busy_timeout_ms)
    database.initialize(db)
    settings.forget()
    partitions.forget()
    if getattr(db, "database", None) == ":memory:":
        db.connect()  # an in-memory database lives as long as its one connection
        if migrate:
            migrations.run(db)
        return db
    if migrate:
        with db.connection_context():
            migrations.run(db)
    return db


def migrate(url: str, busy_timeout_ms: int | None = None) -> list[int]:
    """Bring the schema at `url` up to date, then close every connection this opened: the
    `authz serve` master migrates once before it forks, and no worker inherits a connection."""
    db = _open(url, busy_timeout_ms)
    database.initialize(db)
    settings.forget()
    partitions.forget()
    try:
        with db.connection_context():
            return migrations.run(db)
    finally:
        if isinstance(db, PostgresPool):
            db.close_all()


def release() -> None:
    """End of a request: return a pooled (PostgreSQL) connection; SQLite keeps its own open."""
    if isinstance(database.obj, PostgresPool) and not database.is_closed():
        database.close()


def close() -> None:
    """Close this thread's connection, if any."""
    if database.obj is not None and not database.is_closed() and database.database != ":memory:":
        database.close()


@contextmanager
def connection():
    """A connection for the length of one unit of work (a request, a command)."""
    with database.connection_context():
        yield


def is_ready() -> bool:
    """True when a trivial query answers."""
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()
        return True
    except pw.PeeweeException:
        return False
    except Exception:  # driver errors (OperationalError from sqlite3/psycopg)
        return False
