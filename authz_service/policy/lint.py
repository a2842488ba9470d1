"""`authz policy lint`: rules that never match, never decide, or repeat others (R9.5), with file:line.

Over every possible cell (facts.is_possible) and every action, each rule's matches are worked out
as model.conf matches them (a `g` line's pattern, the subject held, the kind, the actions listed)
and its effect as model.conf combines them (an allow decides where no other allow and no deny
matches; a deny decides where an allow matches and no other deny). A rule that decides nothing
can be removed without changing any decision; tests/policy/test_lint.py removes each one found
and checks that casbin's table stays the same.
"""

from collections import defaultdict
from dataclasses import dataclass
from itertools import product

from authz_service.policy.facts import (
    NONE,
    RELATIONS,
    SESSIONS,
    Facts,
    action_in,
    is_possible,
    who_match,
)
from authz_service.policy.files import Rule


@dataclass(frozen=True)
class Finding:
    """One rule worth a reviewer's look."""

    rule: Rule
    message: str

    def line(self) -> str:
        return f"{self.rule.location}: {self.message}"


def _possible(vocab) -> list[Facts]:
    groups = (*vocab.groups, NONE)
    return [f for f in (Facts(*v) for v in product((*vocab.account_kinds, NONE), RELATIONS, groups, groups,
                                                    SESSIONS)) if is_possible(f)]


def lint(policy) -> list[Finding]:
    """Every finding, in file and line order."""
    facts = _possible(policy.vocab)
    g_rules = [r for r in policy.rules if r.ptype == "g"]
    p_rules = [r for r in policy.rules if r.ptype == "p"]
    givers = {f.who: [r for r in g_rules if who_match(f.who, r.fields[0])] for f in facts}
    findings = _scoping(g_rules, givers)
    allows: defaultdict[tuple, list[Rule]] = defaultdict(list)
    denies: defaultdict[tuple, list[Rule]] = defaultdict(list)
    matched = {}
    for rule in p_rules:
        sub, kind, acts, eft = rule.fields
        actions = [a for a in policy.vocab.actions if action_in(a, acts)]
        cells = [(f, a) for f in facts if kind in ("*", f.kind) and any(g.fields[1] == sub for g in givers[f.who])
                 for a in actions]
        matched[rule] = cells
        for cell in cells:
            (allows if eft == "allow" else denies)[cell].append(rule)
    for rule in p_rules:
        findings += _effect(rule, matched[rule], allows, denies)
    return sorted(findings, key=lambda f: (f.rule.file, f.rule.line))


def _scoping(g_rules: list[Rule], givers: dict[str, list[Rule]]) -> list[Finding]:
    """g lines that match no possible facts, or give a role every fact they match gets elsewhere."""
    found = []
    for rule in g_rules:
        whos = [who for who, rules in givers.items() if rule in rules]
        if not whos:
            found.append(Finding(rule, "never matches: no facts the service can gather fit this pattern"))
            continue
        others = {o.location for who in whos for o in givers[who] if o is not rule and o.fields[1] == rule.fields[1]}
        if all(any(o is not rule and o.fields[1] == rule.fields[1] for o in givers[who]) for who in whos):
            found.append(Finding(rule, f"redundant: {rule.fields[1]} is given to every fact it matches by "
                                       f"{', '.join(sorted(others))}"))
    return found


def _effect(rule: Rule, cells: list, allows: dict, denies: dict) -> list[Finding]:
    """An allow that allows nothing by itself, a deny that denies nothing by itself."""
    if not cells:
        return [Finding(rule, "never matches: nobody holds its subject where its kind and actions apply")]
    if rule.fields[3] == "allow":
        decided = [c for c in cells if allows[c] == [rule] and not denies[c]]
        if decided:
            return []
        shadows = sorted({d.location for c in cells for d in denies[c]})
        repeats = sorted({a.location for c in cells for a in allows[c] if a is not rule})
        why = (f"shadowed by deny {', '.join(shadows)}" if shadows and all(denies[c] for c in cells)
               else f"redundant: everything it allows is allowed by {', '.join(repeats[:5])}"
               + (" or denied by " + ", ".join(shadows) if shadows else ""))
        return [Finding(rule, why)]
    decided = [c for c in cells if allows[c] and denies[c] == [rule]]
    if decided:
        return []
    contested = [c for c in cells if allows[c]]
    others = sorted({d.location for c in contested for d in denies[c] if d is not rule})
    why = "never decides anything: no allow rule matches where it applies" if not contested else \
        f"never decides anything: where an allow matches, {', '.join(others[:5])} denies too"
    return [Finding(rule, why)]
