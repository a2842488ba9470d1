"""Reading the store directly, as the API tests check what a call kept or left alone."""

from authz_service import store
from authz_service.log import chain
from authz_service.store import directory
from authz_service.store.models import Decision


def decision_count() -> int:
    """How many decision log entries are stored, once every one recorded so far is (R7.4)."""
    chain.sync()
    with store.connection():
        return Decision.select().count()


def get_user(email: str) -> dict | None:
    """The directory's user, or None."""
    with store.connection():
        return directory.get_user(email)
