"""The words a policy may use: groups, account kinds, conditions and actions (R3, R9.2)."""

import tomllib
from dataclasses import dataclass, field

from authz_service.policy.errors import PolicyError
from authz_service.policy.snapshot import Snapshot

FILE = "vocabulary.toml"


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """What policies/vocabulary.toml declares."""

    groups: tuple[str, ...]
    account_kinds: tuple[str, ...]
    conditions: tuple[str, ...]
    condition_reasons: dict
    defaults: dict
    actions: tuple[str, ...]
    _action_set: frozenset[str] = field(init=False, repr=False)  # is_action's look-up

    def __post_init__(self):
        object.__setattr__(self, "_action_set", frozenset(self.actions))

    def is_action(self, name: str) -> bool:
        """True when `name` is a known resource.verb."""
        return name in self._action_set


def load(snap: Snapshot) -> Vocabulary:
    """Read and check the vocabulary; a malformed file is a PolicyError naming it."""
    text = snap.text(FILE)
    if text is None:
        raise PolicyError([(FILE, 0, "missing")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([(FILE, getattr(exc, "lineno", 0) or 0, f"syntax error: {exc}")]) from None
    problems = []
    for key in ("groups", "account_kinds", "conditions", "actions"):
        if key not in data:
            problems.append((FILE, 0, f"missing key {key!r}"))
    for key, group in data.get("defaults", {}).items():
        if group not in data.get("groups", []):
            problems.append((FILE, 0, f"default {key} names unknown group {group!r}"))
    if problems:
        raise PolicyError(problems)
    actions = tuple(
        f"{resource}.{verb}" for resource, verbs in data["actions"].items() for verb in verbs
    )
    return Vocabulary(
        groups=tuple(data["groups"]),
        account_kinds=tuple(data["account_kinds"]),
        conditions=tuple(data["conditions"]),
        condition_reasons=dict(data["conditions"]),
        defaults=dict(data.get("defaults", {})),
        actions=actions,
    )
