"""Reading the store directly, as the API tests check what a call kept or left alone."""

from contextlib import contextmanager

from authz_service import store
from authz_service.log import chain
from authz_service.store import directory
from authz_service.store.models import Decision


@contextmanager
def synced_store():
    """store.connection(), once every decision recorded so far is stored: the log writer moves
    the spool into the database a few milliseconds after the answer (R7.4)."""
    chain.sync()
    with store.connection():
        yield


def decision_count() -> int:
    """How many decision log entries are stored."""
    with synced_store():
        return Decision.select().count()


def get_user(email: str) -> dict | None:
    """The directory's user, or None."""
    with store.connection():
        return directory.get_user(email)


def close_database() -> None:
    """After a test: close this thread's connection and every pooled one (PostgreSQL), so that
    none is left for the garbage collector to find open (a ResourceWarning)."""
    store.close()
    close_all = getattr(store.database.obj, "close_all", None)
    if close_all is not None:
        close_all()
