"""Invariants (R9.5): properties of policies/invariants.toml proven over every cell of the derived table.

An invariant selects cells of the fact space (`when`, minus `except`) and claims, for every one
of them, that it `never` or `always` does one thing: `allow` (the action is allowed) or
`hold G` (the group held there is G; `hold *` any group, `hold home` the user's home group).
Each selector is a string or a list of fnmatch patterns over one fact (kind, relation, home,
link, session, action) or the group held (`held`); a pattern starting with `!` excludes; `except` is one such table or a
list of them.
The table is finite (docs/architecture.md), so checking every selected cell is a proof; the cells
are those the service can gather (facts.is_possible: no `owner` of a partner account, say).
A broken invariant refuses the policy (R9.6) with one counterexample and the rule that decided
(docs/decisions/031-policy-invariants.md).
"""

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import product

from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import NONE, RELATIONS, SESSIONS, Facts, is_possible
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


@dataclass(frozen=True)
class Violation:
    """A counterexample: the invariant, the facts and action, the verdict and the line that decided."""

    invariant: Invariant
    facts: Facts
    action: str
    allowed: bool
    group: str | None
    rule: str

    def describe(self) -> str:
        """One line a reviewer reads: what was claimed, the cell that breaks it, and which line."""
        inv, f = self.invariant, self.facts
        cell = (f"kind={f.kind} relation={f.relation} home={f.home_group} link={f.link_group} "
                f"session={f.session} action={self.action}")
        outcome = f"{'allowed' if self.allowed else 'denied'}, holding {self.group or '-'}"
        return (f"invariant {inv.name!r} ({inv.rule}: {inv.says}) is broken: it claims "
                f"{'always' if inv.always else 'never'} {inv.claim}; counterexample {cell}: "
                f"{outcome}, decided by {self.rule}")


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


def check(policy) -> list[Violation]:
    """The first counterexample of each invariant of `policy.invariants` ([] when all hold)."""
    found = []
    for invariant in policy.invariants:
        broken = counterexample(policy, invariant)
        if broken is not None:
            found.append(broken)
    return found


def counterexample(policy, inv: Invariant) -> Violation | None:
    """The first selected possible cell (in the table's order) where the claim fails, or None: a proof."""
    space = domains(policy.vocab)
    axes = [sorted(inv.when.get(k, space[k]), key=space[k].index) for k in (*FACTS, "action")]
    held_ok = inv.when.get("held")
    for *values, action in product(*axes):
        facts = Facts(*values)
        if not is_possible(facts):
            continue
        verdict = policy.decide(facts, action)
        if held_ok is not None and (verdict.group or NONE) not in held_ok:
            continue
        if any(_selected(table, facts, action, verdict.group) for table in inv.unless):
            continue
        if _holds(inv.claim, facts, verdict) != inv.always:
            return Violation(inv, facts, action, verdict.allowed, verdict.group,
                             _decided_by(policy, inv, facts, verdict))
    return None


def _selected(selectors: dict[str, frozenset[str]], facts: Facts, action: str, group) -> bool:
    values = dict(zip(FACTS, facts, strict=True), action=action, held=group or NONE)
    return all(values[key] in admitted for key, admitted in selectors.items())


def _holds(claim: str, facts: Facts, verdict) -> bool:
    if claim == "allow":
        return verdict.allowed
    wanted = claim.split()[1]
    held = verdict.group or NONE
    if wanted == "*":
        return held != NONE
    return held == (facts.home_group if wanted == "home" else wanted)


def _decided_by(policy, inv: Invariant, facts: Facts, verdict) -> str:
    """The table's rule for an allow claim; for a hold claim, the scoping line giving the group."""
    if inv.claim == "allow" or verdict.group is None:
        return verdict.rule
    line = policy.engine.scoping_rule(facts.who, verdict.group)
    return line.location if line is not None else verdict.rule


def prove(policy) -> None:
    """Refuse the policy (PolicyError naming each invariant's line) when any invariant is broken (R9.6)."""
    broken = check(policy)
    if broken:
        raise PolicyError([(*_split(v.invariant.where), v.describe()) for v in broken])


def _split(where: str) -> tuple[str, int]:
    file, _, line = where.rpartition(":")
    return file, int(line)
