"""`authz log verify --checkpoint`: the stored log recomputed, leaf by leaf, against every signed
checkpoint kept outside the database (R7.6; docs/decisions/030-signed-checkpoints.md).

The log is streamed (constant memory: the tree's right edge, not its leaves). A checkpoint is
kept by the log only when its signature is the log key's and the first `size` entries, read
from the database, give its root; so an entry changed, removed (newest or oldest), reordered
or re-chained with fresh hashes is found even when every hash in the database agrees.
"""

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain as concat
from pathlib import Path

from authz_service.log import audit, merkle
from authz_service.log.archive_file import ArchiveUnreadable, read_archive
from authz_service.log.checkpoints import Checkpoint, kept, parse
from authz_service.log.signing import NoteError, Verifier
from authz_service.store import decisions, log_tree
from authz_service.store.entry_form import content

SHOWN = 20  # entries named; a deletion shifts every later leaf, so the rest are counted


@dataclass
class Report:
    """What the walk found: entries read, checkpoints matched, and every break, named."""

    entries: int = 0
    matched: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)
    more: int = 0  # entry breaks past the first SHOWN

    def entry_break(self, problem: str) -> None:
        """Name a broken entry (the first SHOWN), count the rest."""
        if sum(b.startswith("entry ") for b in self.breaks) < SHOWN:
            self.breaks.append(problem)
        else:
            self.more += 1


def _load(paths: Iterable[str], verifier: Verifier, report: Report) -> list[tuple[Checkpoint, str]]:
    found = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as note:
                found.append((parse(note.read(), verifier), path))
        except (OSError, UnicodeDecodeError, NoteError) as exc:
            report.breaks.append(f"checkpoint {path}: {exc}")
    return sorted(found, key=lambda c: (c[0].size, c[1]))


def _entries(archives: list[Path], report: Report) -> Iterator[dict]:
    """Archives (from entry 1), then the live rows; without archives, the live rows from the
    tree's first leaf (entries archived since are named as a break: pass their files)."""
    base, _, _ = log_tree.state()
    anchor = decisions.anchor()[0]
    if archives:
        return concat(*(read_archive(a) for a in archives), decisions.walk(anchor))
    if anchor > base:
        report.breaks.append(f"entries {base + 1}..{anchor} are archived: verify with their --archive files")
    return decisions.walk(anchor)


def _check_entry(entry: dict, verdict: audit.Verdict, edge: merkle.Frontier, report: Report) -> bytes:
    """The entry's leaf, recomputed from its content; its chain and stored leaf checked on the way."""
    leaf = merkle.leaf_hash(content(entry))
    who = f"entry {entry['seq']} (decision {entry['id']})"
    if not verdict.follow([entry]):
        report.entry_break(f"{who}: {verdict.problem}")
        verdict.problem, verdict.last_seq, verdict.last_hash = None, entry["seq"], entry["hash"]
    stored = entry.get("leaf_hash")
    if stored is not None and stored != leaf.hex():
        report.entry_break(f"{who}: its content does not match its leaf hash (changed after it was recorded)")
    if entry.get("leaf_index") is not None and entry["leaf_index"] != edge.size:
        report.entry_break(f"{who}: stored as leaf {entry['leaf_index']}, found at leaf {edge.size}")
    return leaf


def verify(path: str, verifier: Verifier, archives: Iterable[Path] = ()) -> Report:
    """Every checkpoint in `path` (a file or the witness folder) against the stored log."""
    report = Report()
    pending = _load(kept(path), verifier, report)
    if not pending and not report.breaks:
        report.breaks.append(f"no checkpoint found in {os.path.abspath(path)}")
    archives = list(archives)
    base = 0 if archives else log_tree.state()[0]
    edge, last_good = merkle.Frontier(), 0
    verdict = audit.Verdict(0, *((0, decisions.GENESIS) if archives else decisions.anchor()))
    while pending and pending[0][0].size == 0:  # signed while the log was empty
        last_good = _compare(pending.pop(0), edge, base, last_good, report)
    try:
        for entry in _entries(archives, report):
            edge.append(_check_entry(entry, verdict, edge, report))
            report.entries += 1
            while pending and pending[0][0].size == edge.size:
                last_good = _compare(pending.pop(0), edge, base, last_good, report)
    except ArchiveUnreadable as exc:  # an archive line that is not an entry
        report.breaks.append(f"an entry cannot be read after entry {base + edge.size} ({exc!s}); nothing after it checked")
        return report
    for checkpoint, where in pending:
        report.breaks.append(f"checkpoint {where} (size {checkpoint.size}): the log holds only {edge.size} "
                             f"entries: entries after entry {base + edge.size} were removed")
    if report.more:
        report.breaks.append(f"... and {report.more} more entries that do not match")
    return report


def _compare(item: tuple[Checkpoint, str], edge: merkle.Frontier, base: int, last_good: int, report: Report) -> int:
    checkpoint, where = item
    if edge.root() == checkpoint.root:
        report.matched.append(where)
        return checkpoint.size
    report.breaks.append(
        f"checkpoint {where} (size {checkpoint.size}): entries {base + 1}..{base + checkpoint.size} do not give "
        f"its root: an entry among {base + last_good + 1}..{base + checkpoint.size} was changed, removed, "
        f"reordered or re-chained")
    return last_good
