"""Replay: every recorded decision since a date re-decided under a candidate policy from the facts it
recorded (R9.7; docs/decisions/033-decision-facts-and-replay.md): which would have gone the other way.

Entries are read grouped by (facts, action, outcome, policy version), so each distinct group is
decided once however many entries share it; tests/policy/test_replay.py checks the counts equal
deciding each entry's facts one by one. Entries without facts (recorded before migration 8, or
not decided by the policy: operator changes, logins, "not done" outcomes) are not replayable.
"""

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
    versions: dict[str, int] = field(default_factory=dict)  # entries per policy version that decided
    flips: dict[str, dict] = field(default_factory=dict)  # action -> to_allow, to_deny, samples

    @property
    def flipped(self) -> int:
        """How many replayed decisions would have gone the other way."""
        return sum(f["to_allow"] + f["to_deny"] for f in self.flips.values())

    def as_dict(self) -> dict:
        """The --json form."""
        return {"new": self.new_version, "since": self.since.isoformat() if self.since else None,
                "replayed": self.replayed, "not_replayable": self.not_replayable, "flipped": self.flipped,
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


def replay(new: Policy, since: datetime | None) -> Replay:
    """Every entry recorded with facts at or after `since` (all when None), decided again under `new`."""
    result = Replay(new.version, since)
    facts_recorded = recorded.has_facts()
    result.not_replayable = recorded.without_facts(since, facts_recorded)
    if not facts_recorded:
        return result
    decided: dict[tuple[str, str], bool | None] = {}
    for text, action, allowed, version, count, oldest, newest in recorded.grouped(since):
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
    for counts in result.flips.values():
        for shown in counts["samples"].values():
            shown.sort(reverse=True)  # newest first
    return result
