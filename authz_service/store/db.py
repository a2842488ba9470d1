"""Opening the database named by AUTHZ_DATABASE_URL and migrating it (SQLite or PostgreSQL)."""

import os
from contextlib import contextmanager
from urllib.parse import urlparse

import peewee as pw
from playhouse.db_url import connect as connect_url
from playhouse.pool import PooledDatabase

from authz_service.store import migrations, settings
from authz_service.store.models import database

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer
    "synchronous": "normal",  # a commit survives a killed process (WAL); see docs
    "foreign_keys": 1,
    "busy_timeout": 10000,
}


# Each worker thread holds at most one connection during a request and returns it after.
POOL_OPTIONS = "max_connections=32&stale_timeout=300&timeout=10"


def _open(url: str, busy_timeout_ms: int | None = None) -> pw.Database:
    """Build a peewee database for a sqlite:/// or postgresql:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        pragmas = {**SQLITE_PRAGMAS, **({"busy_timeout": busy_timeout_ms} if busy_timeout_ms else {})}
        # Transactions take the write lock when they begin (BEGIN IMMEDIATE): in WAL mode one
        # that reads first and writes later cannot wait for the lock and fails at once when
        # another writer committed in between; taking it up front waits (busy_timeout) instead.
        return pw.SqliteDatabase(path or ":memory:", pragmas=pragmas, check_same_thread=False,
                                 lock_type="IMMEDIATE")
    if parsed.scheme in ("postgres", "postgresql"):
        pooled = url.replace(parsed.scheme + "://", "psycopg3+pool://", 1)
        if "max_connections" not in pooled:
            pooled += ("&" if "?" in pooled else "?") + POOL_OPTIONS
        return connect_url(pooled)
    raise ValueError(f"unsupported database URL scheme: {parsed.scheme!r}")


def connect(url: str, migrate: bool = True, busy_timeout_ms: int | None = None) -> pw.Database:
    """Bind the models to `url` and bring the schema up to date."""
    db = _open(url, busy_timeout_ms)
    database.initialize(db)
    settings.forget()
    if getattr(db, "database", None) == ":memory:":
        db.connect()  # an in-memory database lives as long as its one connection
        if migrate:
            migrations.run(db)
        return db
    if migrate:
        with db.connection_context():
            migrations.run(db)
    return db


def release() -> None:
    """End of a request: return a pooled (PostgreSQL) connection; SQLite keeps its own open."""
    if isinstance(database.obj, PooledDatabase) and not database.is_closed():
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
