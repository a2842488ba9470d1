"""The decision table: casbin evaluated once for every combination of facts, then looked up.

A decision depends only on the facts (kind, relation, home group, link group,
session) and the action, all from small closed sets. When the policy loads,
casbin decides every combination; the hot path is one dict lookup. A test proves
the table and casbin agree on every combination.
"""

from itertools import product
from typing import NamedTuple

from authz_service.policy.engine import Engine
from authz_service.policy.errors import PolicyError
from authz_service.policy.facts import NONE, RELATIONS, SESSIONS, Facts
from authz_service.policy.vocabulary import Vocabulary


class Verdict(NamedTuple):
    """A decision: allowed, the group held (None: none), the rule that decided, and why."""

    allowed: bool
    group: str | None
    rule: str
    reason: str


def all_facts(vocab: Vocabulary):
    """Every combination of facts the service can gather."""
    values = vocab.groups + (NONE,)
    for kind, rel, home, link, sess in product(
        vocab.account_kinds + (NONE,), RELATIONS, values, values, SESSIONS
    ):
        yield Facts(kind, rel, home, link, sess)


def derive(engine: Engine, vocab: Vocabulary) -> dict[tuple, Verdict]:
    """Ask casbin once per (roles held, kind, action) and spread it to every combination."""
    roles_of, group_of = _scoping(engine, vocab)
    asked: dict[tuple, tuple] = {}
    table = {}
    for facts in all_facts(vocab):
        roles = roles_of[facts.who]
        for action in vocab.actions:
            key = (roles, facts.kind, action)
            if key not in asked:
                allowed, rule = engine.enforce(facts, action)
                asked[key] = (allowed, rule)
            allowed, rule = asked[key]
            group = group_of[facts.who]
            location = rule.location if rule else engine.default_deny
            reason = _reason(facts, action, allowed, group, rule, vocab)
            table[(*facts, action)] = Verdict(allowed, group, location, reason)
    return table


def _scoping(engine: Engine, vocab: Vocabulary):
    """For each `who`, the roles scoping.csv gives it; at most one may be a group."""
    roles_of, group_of, problems = {}, {}, []
    for facts in all_facts(vocab):
        if facts.who in roles_of:
            continue
        roles = frozenset(r for r in vocab.groups + vocab.conditions if engine.holds(facts.who, r))
        groups = sorted(r for r in roles if r in vocab.groups)
        if len(groups) > 1:
            where = [engine.scoping_rule(facts.who, g) for g in groups]
            for rule in filter(None, where):
                problems.append((rule.file, rule.line, f"{facts.who} would hold {groups}: one group only (R3)"))
        roles_of[facts.who] = roles
        group_of[facts.who] = groups[0] if groups else None
    if problems:
        raise PolicyError(sorted(set(problems)))
    return roles_of, group_of


def _reason(facts: Facts, action, allowed, group, rule, vocab: Vocabulary) -> str:
    """A sentence for a person, describing the facts and the rule that decided."""
    if allowed:
        return f"{group} may {action} in a {facts.kind} account ({rule.location})"
    if rule is not None and rule.fields[0] in vocab.condition_reasons:
        return f"refused: {vocab.condition_reasons[rule.fields[0]]} ({rule.location})"
    if group is not None:
        return f"{group} may not {action} in a {facts.kind} account: no rule allows it (deny by default)"
    if facts.home_group == NONE:
        return "no such user: unknown users are denied"
    if facts.kind == NONE:
        return "no such account: decisions about unknown accounts are denied"
    if facts.relation == "owner":
        return "the user is not linked to this customer and is not a partner admin (R4.1, R4.2)"
    return "the user holds no group in this account: nothing crosses accounts or partners (R4.7, R4.8)"
