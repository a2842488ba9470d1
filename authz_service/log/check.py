"""The log's chain verified outside any request (must-hold 7): the log writer process walks a
bounded slice per tick, and the last full pass is kept in a file the console shows.

While entries arrive, the slices take at most SHARE of the writer's time (docs/decisions/
049-background-work-yields.md): a pass over a large log is spread out instead of holding a core
beside the workers that are answering."""

import contextlib
import json
import os
import time
from itertools import islice

from authz_service.log import spool
from authz_service.log.audit import Verdict
from authz_service.private_files import write_secret
from authz_service.store import decisions
from authz_service.store.entry_form import canonical_at
from authz_service.store.models import utcnow

SLICE = 250  # entries per tick: storing new entries never waits longer than one slice (~5 ms)
SHARE = 0.1  # of the writer's time, at most, while entries arrive
BUSY_SECONDS = 1.0  # "entries arrive": some were stored this recently


def result_path(settings) -> str | None:
    """The file beside the spool that keeps the last pass; None for an in-memory database."""
    family = spool.spool_family(settings)
    return None if family is None else os.path.join(family[0], family[1] + "-verified.json")


def last_result(settings) -> dict | None:
    """The last full pass ({"checked", "last_seq", "problem", "bad_seq", "finished_at"}), or None."""
    path = result_path(settings)
    if path is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        with open(path, encoding="utf-8") as kept:
            found = json.load(kept)
        return found if isinstance(found, dict) else None
    return None


class Checker:
    """One pass over the live chain at a time, `SLICE` entries per step, a pass every `every` seconds."""

    def __init__(self, path: str, every: float, size: int = SLICE):
        self.path, self.every, self.size = path, every, size
        self.verdict: Verdict | None = None
        self.anchor: tuple[int, str] | None = None  # where the chain started when this pass began
        self.due = 0.0
        self.rested = 0.0  # while busy, no slice before this (time.monotonic)

    def step(self, busy: bool = False) -> bool:
        """Verify the next slice; True when a pass has just been saved. `busy`: entries are
        arriving, so a slice waits until the ones before it are at most SHARE of the time."""
        if busy and time.monotonic() < self.rested:
            return False
        if self.verdict is None:
            if self.every <= 0 or time.monotonic() < self.due:
                return False
            self.anchor = decisions.anchor()
            self.verdict = Verdict(0, *self.anchor)
        started = time.monotonic()
        entries = list(islice(decisions.walk(self.verdict.last_seq, chunk=self.size), self.size))
        followed = self.verdict.follow(entries)
        now = time.monotonic()
        self.rested = now + (now - started) * (1 - SHARE) / SHARE
        if followed and len(entries) == self.size:
            return False
        verdict, self.verdict, self.due = self.verdict, None, time.monotonic() + self.every
        if verdict.problem and decisions.anchor() != self.anchor:
            self.due = 0.0  # archived during the pass: start over rather than report a false break
            return False
        result = {"checked": verdict.checked, "last_seq": verdict.last_seq, "problem": verdict.problem,
                  "bad_seq": verdict.bad_seq, "finished_at": canonical_at(utcnow())}
        write_secret(self.path, json.dumps(result))  # whole and 0600: a reader never sees half of it
        return True
