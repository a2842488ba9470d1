"""Writing and reading decision log rows (R7)."""

from authz_service.store.models import Decision, database


def insert(entries: list[dict]) -> None:
    """Insert entries in one transaction."""
    with database.atomic():
        for start in range(0, len(entries), 100):
            Decision.insert_many(entries[start : start + 100]).execute()


def get(decision_id: str) -> dict | None:
    """One entry, or None."""
    row = Decision.select().where(Decision.id == decision_id).dicts().first()
    return row
