"""The facts a decision depends on, and how they match the `who` patterns of scoping.csv."""

import json
from functools import lru_cache
from typing import NamedTuple

RELATIONS = ("home", "owner", "none")
SESSIONS = ("none", "bound", "elsewhere")
NONE = "-"


class Facts(NamedTuple):
    """What the policy is told about one (user, account, session); "-" means none/unknown."""

    kind: str  # partner | customer | "-" (no such account)
    relation: str  # home | owner | none
    home_group: str  # the user's home group, "-" for an unknown user
    link_group: str  # the user's link group on this customer, "-" for none
    session: str  # none | bound | elsewhere

    @property
    def who(self) -> str:
        """The request's subject as model.conf spells it."""
        return f"{self.relation}/{self.home_group}/{self.link_group}/{self.session}"


def is_possible(facts: Facts) -> bool:
    """True when decide/gather.py can produce these facts (the space invariants and compare range over).

    By the relation's definition (docs/architecture.md): `owner` is a known user's relation to a
    customer of their partner; `home` a known user's to their existing home account; a link group
    is read only for `owner`. Every other combination is in the table but never asked.
    """
    if facts.relation == "owner":
        return facts.kind == "customer" and facts.home_group != NONE
    if facts.link_group != NONE:
        return False
    return facts.relation == "none" or NONE not in (facts.kind, facts.home_group)


@lru_cache(maxsize=4096)
def as_text(facts: "Facts") -> str:
    """The facts as a decision entry records them (R9.7): a compact JSON array of the five
    values, in the table key's order. JSON, not a joined string: a group set in the database
    may hold any character, and the text must read back as exactly these facts."""
    return json.dumps(list(facts), separators=(",", ":"), ensure_ascii=False)


def from_text(text: str | None) -> "Facts | None":
    """Facts recorded by as_text; None for an entry without them (recorded before R9.7's facts,
    or not decided by the policy) or a text that is not five strings."""
    if text is None:
        return None
    try:
        values = json.loads(text)
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != len(Facts._fields) or \
            not all(isinstance(v, str) for v in values):
        return None
    return Facts(*values)


def who_match(who: str, pattern: str) -> bool:
    """Part by part equality, where a `*` part matches any one value."""
    parts, wanted = who.split("/"), pattern.split("/")
    if len(parts) != len(wanted):
        return who == pattern
    return all(w in ("*", p) for p, w in zip(parts, wanted, strict=True))


def action_in(action: str, spec: str) -> bool:
    """True when `spec` ("port: view edit", "port.view" or "*") lists `action`."""
    if spec == "*":
        return True
    resource, colon, verbs = spec.partition(":")
    if not colon:
        return action == spec
    res, _, verb = action.partition(".")
    return res == resource.strip() and verb in verbs.split()
