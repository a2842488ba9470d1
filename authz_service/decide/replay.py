"""Replay: every recorded decision since a date re-decided under a candidate policy from the facts it
recorded (R9.7; docs/decisions/033-decision-facts-and-replay.md): which would have gone the other way.
Archived entries are replayed too when their files are given (decision 046), grouped the same way.

Entries are read grouped by (facts, action, outcome, policy version), so each distinct group is
decided once however many entries share it; tests/policy/test_replay.py checks the counts equal
deciding each entry's facts one by one. Entries without facts (recorded before migration 8, or
not decided by the policy: operator changes, logins, "not done" outcomes) are not replayable.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from authz_service.policy import Policy
from authz_service.policy.facts import from_text
from authz_service.store import recorded

SAMPLES = 5  # decision ids shown per action and direction


@dataclass
class Replay:
    """What re-deciding the recorded decisions under `new_version` changes."""

    new_version: str
    since: datetime | None
    replayed: int = 0
    not_replayable: int = 0
    archived: int = 0  # of `replayed`, how many were read from archive files
    versions: dict[str, int] = field(default_factory=dict)  # entries per policy version that decided
    flips: dict[str, dict] = field(default_factory=dict)  # action -> to_allow, to_deny, samples

    @property
    def flipped(self) -> int:
        """How many replayed decisions would have gone the other way."""
        return sum(f["to_allow"] + f["to_deny"] for f in self.flips.values())

    def as_dict(self) -> dict:
        """The --json form."""
        return {"new": self.new_version, "since": self.since.isoformat() if self.since else None,
                "replayed": self.replayed, "archived": self.archived, "not_replayable": self.not_replayable,
                "flipped": self.flipped,
                "versions": dict(sorted(self.versions.items())),
                "by_action": dict(sorted(self.flips.items()))}


def _flip(result: Replay, action: str, to_allow: bool, count: int, samples: tuple[str, str]) -> None:
    counts = result.flips.setdefault(action, {"to_allow": 0, "to_deny": 0,
                                              "samples": {"to_allow": [], "to_deny": []}})
    direction = "to_allow" if to_allow else "to_deny"
    counts[direction] += count
    shown = counts["samples"][direction]
    for decision_id in samples:
        if len(shown) < SAMPLES and decision_id not in shown:
            shown.append(decision_id)


Group = tuple[str, str, bool, str | None, int, str, str]  # facts, action, allowed, version, count, oldest, newest


def archived_groups(entries: Iterable[dict], since: datetime | None) -> tuple[list[Group], int]:
    """recorded.grouped's rows for archived entries (an archive file's lines), and how many of
    those at or after `since` hold no facts."""
    groups: dict[tuple, list] = {}
    without = 0
    for entry in entries:
        if since is not None and datetime.fromisoformat(entry["at"]).replace(tzinfo=None) < since:
            continue
        if entry.get("facts") is None:
            without += 1
            continue
        key = (entry["facts"], entry["action"], bool(entry["allowed"]), entry.get("policy_version"))
        found = groups.setdefault(key, [0, entry["id"], entry["id"]])
        found[0] += 1
        found[1], found[2] = min(found[1], entry["id"]), max(found[2], entry["id"])
    return [(*key, n, lo, hi) for key, (n, lo, hi) in groups.items()], without


def replay(new: Policy, since: datetime | None, archived: Iterable[Iterable[dict]] = ()) -> Replay:
    """Every entry recorded with facts at or after `since` (all when None), decided again under
    `new`: the live log's, then each archive's (entries already checked against the chain)."""
    result = Replay(new.version, since)
    facts_recorded = recorded.has_facts()
    result.not_replayable = recorded.without_facts(since, facts_recorded)
    decided: dict[tuple[str, str], bool | None] = {}
    if facts_recorded:
        _decide(new, result, decided, recorded.grouped(since))
    for entries in archived:
        groups, without = archived_groups(entries, since)
        result.not_replayable += without
        before = result.replayed
        _decide(new, result, decided, groups)
        result.archived += result.replayed - before
    for counts in result.flips.values():
        for shown in counts["samples"].values():
            shown.sort(reverse=True)  # newest first
    return result


def _decide(new: Policy, result: Replay, decided: dict, groups: Iterable[Group]) -> None:
    """Each group decided once under `new` (per facts and action); its entries counted."""
    for text, action, allowed, version, count, oldest, newest in groups:
        if (text, action) not in decided:
            facts = from_text(text)
            decided[(text, action)] = None if facts is None else new.decide(facts, action).allowed
        now = decided[(text, action)]
        if now is None:  # facts that do not read back: never guessed at
            result.not_replayable += count
            continue
        result.replayed += count
        result.versions[version or "-"] = result.versions.get(version or "-", 0) + count
        if now != allowed:
            _flip(result, action, now, count, (newest, oldest))
