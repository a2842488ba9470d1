"""The decision log: every decision recorded before its answer leaves (R7.1, R7.2)."""

import os
import time

from authz_service.store import decisions as store_decisions


def new_id() -> str:
    """A time-ordered unique id: 12 hex digits of milliseconds, then 20 random."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def append(entries: list[dict]) -> list[str]:
    """Record entries (one transaction); returns their ids in order."""
    for entry in entries:
        entry.setdefault("id", new_id())
    store_decisions.insert(entries)
    return [e["id"] for e in entries]
