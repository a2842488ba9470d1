"""Reading the decision log: activity and decision pages (R7.2, R7.3), verifying and archiving
the hash chain (R7.4).

Longer than 200 lines: the chain's walk, the archives' check and archiving share `Verdict` and
the anchor; apart, the modules would import each other.
"""

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from authz_service import cursors
from authz_service.give_way import give_way
from authz_service.log import chain
from authz_service.log.archive_file import ArchiveUnreadable, read_archive
from authz_service.log.chain import GENESIS, chain_hash, content
from authz_service.policy.facts import from_text
from authz_service.store import decisions, log_stats, log_tree
from authz_service.store.entry_form import canonical_at


def item(row: dict) -> dict:
    """One entry as the API shows it (docs/api.md "Logs")."""
    resource = None
    if row["resource_type"] is not None or row["resource_id"] is not None:
        resource = {"type": row["resource_type"], "id": row["resource_id"]}
    return {"entry_id": str(row["seq"]), "at": row["at"], "user": row["user_email"],
            "action": row["action"], "resource": resource, "allowed": bool(row["allowed"]),
            "group": row["group"], "on_behalf_of_partner": row["on_behalf_of_partner"],
            "session": row["session_id"], "decision_id": row["id"], "rule": row["rule"],
            "reason": row["reason"], "account": row["account_id"], "caller": row["caller"],
            "altered": bool(row.get("altered")), "facts": _facts(row.get("facts")),
            "policy_version": row.get("policy_version")}


def _facts(text: str | None) -> dict | None:
    """The facts an entry was decided from (R9.7, migration 8), None when it records none."""
    facts = from_text(text)
    return None if facts is None else facts._asdict()


def _page(kind: str, filters: dict, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """Newest first, after the cursor's (at, seq); the next cursor when more remain."""
    chain.sync()  # every decision recorded so far, those still in the host's spool too
    after = cursors.decode(kind, cursor)
    if after is not None:
        try:
            at, seq = after
            after = (datetime.fromisoformat(at), int(seq))
        except (TypeError, ValueError):
            raise cursors.InvalidCursor("the cursor is not one this service gave for this list") from None
    rows, more = decisions.page(filters, after, limit)
    next_cursor = None
    if more:  # more follow the page's last row (a page holds at least one: limit >= 1)
        last = rows[-1]
        next_cursor = cursors.encode(kind, [canonical_at(last["at"]), last["seq"]])
    return [item(r) for r in rows], next_cursor


def activity(account_id: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """An account's activity log (R7.3), read once the caller's `activity.view` was decided
    (portal/activity.py)."""
    filters = {"account_id": account_id, "log_account": account_id}  # R7.2
    return _page(f"activity:{account_id}", filters, limit, cursor)


def wanted(filters: dict) -> dict:
    """GET /v1/decisions's query as the store's filter: by user, account, action, outcome, time
    and free text (the console's activity search uses exactly this, decision 036)."""
    return {"user_email": (filters.get("user") or "").lower() or None,
            "account_id": filters.get("account"), "action": filters.get("action"),
            "allowed": filters.get("allowed"), "since": filters.get("since"),
            "until": filters.get("until"), "text": filters.get("q") or None}


def decisions_page(filters: dict, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """Every decision, for auditors: by user, account, action, outcome, time, text (docs/api.md)."""
    return _page("decisions", wanted(filters), limit, cursor)


@dataclass
class Verdict:
    """What `authz log verify` found: how many entries matched, and the first that did not."""

    checked: int
    last_seq: int
    last_hash: str
    bad_seq: int | None = None
    bad_id: str | None = None
    problem: str | None = None

    def follow(self, entries: Iterable[dict]) -> bool:
        """Check entries against the chain so far; False at the first that does not match."""
        for entry in entries:
            problem = _problem(entry, self.last_seq, self.last_hash)
            if problem:
                self.bad_seq, self.bad_id, self.problem = entry["seq"], entry["id"], problem
                return False
            self.checked, self.last_seq, self.last_hash = self.checked + 1, entry["seq"], entry["hash"]
            give_way()  # the log writer verifies in slices between storing (decisions 049, 054)
        return True


def _problem(entry: dict, seq: int, prev: str) -> str | None:
    if entry["seq"] != seq + 1:
        return f"expected entry {seq + 1} here, found entry {entry['seq']} (entries missing)"
    if entry["prev_hash"] != prev:
        return f"its prev_hash does not match the hash of entry {seq}"
    if chain_hash(entry["seq"], entry["prev_hash"], content(entry)) != entry["hash"]:
        return "its content does not match its hash (changed after it was recorded)"
    return None


def verify(archives: Iterable[Path] = ()) -> Verdict:
    """Walk the chain, archive files first (from entry 1) then the live rows; stop at a mismatch.

    Without archives the walk starts from the anchor the last archiving left in the database.
    """
    archives = list(archives)
    if archives:
        verdict = verify_archives(archives)
        if verdict.problem is None:
            verdict.follow(decisions.walk(verdict.last_seq))
        return verdict
    chain.sync()
    verdict = Verdict(0, *decisions.anchor())
    verdict.follow(decisions.walk(verdict.last_seq))
    return verdict


class ArchivesDoNotVerify(Exception):
    """What `checked_archives` gave out stops here: `verdict` says which entry and why."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.problem)
        self.verdict = verdict


def verify_archives(archives: list[Path]) -> Verdict:
    """The archive files, oldest first, from entry 1 up to where the live log starts: each entry
    matches its hash and the chain, and the last is the one the last archiving left as anchor."""
    verdict = Verdict(0, 0, GENESIS)
    with contextlib.suppress(ArchivesDoNotVerify):
        for entries in checked_archives(archives, verdict):
            for _ in entries:
                pass
    return verdict


def checked_archives(archives: list[Path], verdict: Verdict | None = None) -> Iterator[Iterator[dict]]:
    """Each archive file's entries, read once: each is checked against the chain before it is
    given out, so what a reader uses is what was checked (R7.4; a file changed after a first read
    is never used). ArchivesDoNotVerify at the first entry that does not follow, or after the
    last file when they do not reach the live log's anchor. Read each file's entries to the end.
    `verdict`, where given, is the one followed (from entry 1)."""
    verdict = Verdict(0, 0, GENESIS) if verdict is None else verdict
    chain.sync()
    anchor = decisions.anchor()
    for path in archives:
        yield _checked(path, verdict)
    if verdict.problem is None and (verdict.last_seq, verdict.last_hash) != anchor:
        verdict.bad_seq = verdict.last_seq
        verdict.problem = (f"the archives end at entry {verdict.last_seq}, but the live log "
                           f"continues from entry {anchor[0]}")
    if verdict.problem is not None:
        raise ArchivesDoNotVerify(verdict)


def _checked(path: Path, verdict: Verdict) -> Iterator[dict]:
    try:
        for entry in read_archive(path):
            if not verdict.follow((entry,)):
                raise ArchivesDoNotVerify(verdict)
            yield entry
    except ArchiveUnreadable as exc:
        verdict.bad_seq = verdict.last_seq + 1
        verdict.problem = f"{path}: an entry cannot be read after entry {verdict.last_seq} ({exc!s})"
        raise ArchivesDoNotVerify(verdict) from None


def archive(before: datetime, out: Path) -> int:
    """Move the oldest entries, up to the first recorded at or after `before`, into a JSON lines
    file, then drop them from the database; the chain still verifies with the file (R7.4)."""
    if out.exists():
        raise FileExistsError(f"{out} exists; archives are never overwritten")
    chain.sync()
    anchor = decisions.anchor()
    seq, prev, count = anchor[0], anchor[1], 0
    partial = out.with_name(out.name + ".partial")
    with open(partial, "w", encoding="utf-8") as lines:
        for entry in decisions.walk(anchor[0]):
            if entry["at"] >= before:
                break
            problem = _problem(entry, seq, prev)
            if problem:
                raise ValueError(f"entry {entry['seq']}: {problem}; nothing archived")
            lines.write(json.dumps({**entry, "at": canonical_at(entry["at"]),
                                    "allowed": bool(entry["allowed"])}) + "\n")
            seq, prev, count = entry["seq"], entry["hash"], count + 1
        lines.flush()
        os.fsync(lines.fileno())
    if count == 0:
        partial.unlink()
        return 0
    os.replace(partial, out)
    log_tree.keep_leaves(seq)  # R7.6: the archived entries' leaf hashes stay, so proofs still build
    decisions.drop_through(anchor, seq, prev, before)  # whole months dropped on PostgreSQL (038)
    return count


def entry(decision_id: str) -> dict | None:
    """One recorded decision by its id, as the API shows entries; None when no entry has it."""
    chain.sync()
    row = log_stats.entry(decision_id)
    return item(row) if row else None
