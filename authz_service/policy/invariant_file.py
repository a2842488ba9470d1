"""policies/invariants.toml read and checked (R9.5): each invariant's cells and claim, with its line.

The format is described at the top of policies/invariants.toml and justified in
docs/decisions/031-policy-invariants.md; policy/invariants.py proves them.
"""

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase

from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import NONE, RELATIONS, SESSIONS
from authz_service.policy.snapshot import Snapshot
from authz_service.policy.vocabulary import Vocabulary

FILE = "invariants.toml"
FACTS = ("kind", "relation", "home", "link", "session")
SELECTORS = (*FACTS, "action", "held")
KEYS = {"name", "rule", "says", "when", "except", "never", "always"}


@dataclass(frozen=True)
class Invariant:
    """One named property: the cells it speaks of and what must hold of each."""

    name: str
    rule: str  # the rule it states, "R3"
    says: str
    when: dict[str, frozenset[str]]  # selector -> the values it admits
    unless: tuple[dict[str, frozenset[str]], ...]  # cells matching any of these are left out
    always: bool  # True: every selected cell does it; False: none does
    claim: str  # "allow" or "hold <group | * | home>"
    where: str  # policies/invariants.toml:N


def domains(vocab: Vocabulary) -> dict[str, tuple[str, ...]]:
    """Every value each selector can take in the fact space."""
    groups = (*vocab.groups, NONE)
    return {"kind": (*vocab.account_kinds, NONE), "relation": RELATIONS, "home": groups,
            "link": groups, "session": SESSIONS, "action": vocab.actions, "held": groups}


def load(snap: Snapshot, vocab: Vocabulary) -> list[Invariant]:
    """Every [[invariant]] of policies/invariants.toml, checked; none when the file is absent."""
    text = snap.text(FILE)
    if text is None:
        return []
    name = f"{snap.prefix}/{FILE}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([(name, getattr(exc, "lineno", 0) or 0, f"syntax error: {exc}")]) from None
    entries = data.get("invariant", [])
    if set(data) - {"invariant"} or not isinstance(entries, list):
        raise PolicyError([(name, 0, "only [[invariant]] tables belong here")])
    found, problems, seen = [], [], set[str]()
    for entry in entries:
        where = _line(text, entry.get("name") if isinstance(entry, dict) else None)
        try:
            found.append(_parse(entry, vocab, f"{name}:{where}", seen))
        except ValueError as exc:
            problems.append((name, where, str(exc)))
    if problems:
        raise PolicyError(problems)
    return found


def _parse(entry, vocab: Vocabulary, where: str, seen: set) -> Invariant:
    if not isinstance(entry, dict):
        raise ValueError("an invariant is a table")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise ValueError(f"unknown keys {unknown}")
    name, rule, says = (entry.get(k) for k in ("name", "rule", "says"))
    if not (isinstance(name, str) and isinstance(rule, str) and isinstance(says, str)
            and name.strip() and rule.strip() and says.strip()):
        raise ValueError("name, rule (the rule it states, e.g. R3) and says are required")
    if name in seen:
        raise ValueError(f"two invariants named {name!r}")
    seen.add(name)
    if ("never" in entry) == ("always" in entry):
        raise ValueError(f"{name}: exactly one of never or always")
    always = "always" in entry
    claim = _claim(entry["always" if always else "never"], vocab, name)
    when = _selectors(entry.get("when", {}), vocab, name)
    given = entry.get("except", [])
    unless = tuple(_selectors(t, vocab, name) for t in (given if isinstance(given, list) else [given]))
    return Invariant(name, rule, says, when, unless, always, claim, where)


def _claim(value, vocab: Vocabulary, name: str) -> str:
    words = value.split() if isinstance(value, str) else []
    if words == ["allow"]:
        return "allow"
    if len(words) == 2 and words[0] == "hold" and words[1] in (*vocab.groups, NONE, "*", "home"):
        return " ".join(words)
    raise ValueError(f"{name}: the claim is `allow` or `hold <group | - | * | home>`, not {value!r}")


def _selectors(table, vocab: Vocabulary, name: str) -> dict[str, frozenset[str]]:
    """{selector: admitted values}; a pattern matching nothing is refused (a typo proves nothing)."""
    if not isinstance(table, dict):
        raise ValueError(f"{name}: when and except are tables of selectors")
    space, chosen = domains(vocab), {}
    for key, given in table.items():
        if key not in SELECTORS:
            raise ValueError(f"{name}: unknown selector {key!r} (one of {', '.join(SELECTORS)})")
        patterns = [given] if isinstance(given, str) else given
        if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"{name}: {key} is a pattern or a list of patterns")
        for pattern in patterns:
            if not any(fnmatchcase(v, pattern.removeprefix("!")) for v in space[key]):
                raise ValueError(f"{name}: {key} pattern {pattern!r} matches no known value")
        keep = [p for p in patterns if not p.startswith("!")]
        drop = [p[1:] for p in patterns if p.startswith("!")]
        chosen[key] = frozenset(v for v in space[key] if (not keep or any(fnmatchcase(v, p) for p in keep))
                                and not any(fnmatchcase(v, p) for p in drop))
    return chosen


def _line(text: str, name) -> int:
    """The line of `name = "<name>"` (so a refusal points at the invariant)."""
    for number, line in enumerate(text.splitlines(), 1):
        key, _, value = line.partition("=")
        if key.strip() == "name" and value.strip().strip("\"'") == name:
            return number
    return 0
