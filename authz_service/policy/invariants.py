"""Invariants (R9.5): properties of policies/invariants.toml proven over every cell of the derived table.

An invariant selects cells of the fact space (`when`, minus `except`) and claims, for every one
of them, that it `never` or `always` does one thing: `allow` (the action is allowed) or
`hold G` (the group held there is G; `hold *` any group, `hold home` the user's home group).
Each selector is a string or a list of fnmatch patterns over one fact (kind, relation, home,
link, session, action) or the group held (`held`); a pattern starting with `!` excludes; `except`
is one such table or a list of them. An invariant that selects no cell proves nothing and is refused.
The table is finite (docs/architecture.md), so checking every selected cell is a proof; the cells
are those the service can gather (facts.is_possible: no `owner` of a partner account, say).
A broken invariant refuses the policy (R9.6) with one counterexample and the rule that decided
(docs/decisions/031-policy-invariants.md).
"""

from dataclasses import dataclass
from itertools import product

from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import NONE, Facts, is_possible
from authz_service.policy.invariant_file import FACTS, Invariant, domains


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


def check(policy) -> list[Violation]:
    """The first counterexample of each invariant of `policy.invariants` ([] when all hold)."""
    return [broken for inv in policy.invariants if (broken := _walk(policy, inv)[0]) is not None]


def _walk(policy, inv: Invariant) -> tuple[Violation | None, int]:
    """(the first selected possible cell, in the table's order, where the claim fails, or None: a
    proof; how many cells were selected before it)."""
    space = domains(policy.vocab)
    selected = 0
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
                             _decided_by(policy, inv, facts, verdict)), selected
        selected += 1
    return None, selected


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
    problems = []
    for inv in policy.invariants:
        broken, selected = _walk(policy, inv)
        if broken is not None:
            problems.append((*_split(inv.where), broken.describe()))
        elif selected == 0:
            problems.append((*_split(inv.where), f"invariant {inv.name!r} ({inv.rule}) selects no cell "
                             "the service can gather: it proves nothing"))
    if problems:
        raise PolicyError(problems)


def _split(where: str) -> tuple[str, int]:
    file, _, line = where.rpartition(":")
    return file, int(line)
