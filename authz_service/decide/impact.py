"""What a policy change does to the live grants (R9.7): the (user, account, action) triples gained and lost.

Computed as who-can-act is (decide/holding.py, store/holders.py, 027): for each account kind and
action, the facts (relation, home group, link group; no view session, R6) whose decision differs
between the two tables are worked out once, then the store selects every user and account whose
facts are among them. Nothing is decided user by user; tests/policy/test_impact.py checks the
answer equals asking both policies about every (user, account, action).
"""

from dataclasses import dataclass, field

from authz_service.decide.holding import SESSION
from authz_service.policy import NONE, Facts, Policy
from authz_service.store import holders
from authz_service.store.holders import Matching


@dataclass
class Impact:
    """The triples a change gains and loses, each (email, account, action, partner)."""

    old_version: str
    new_version: str
    gained: list[tuple[str, str, str, str]] = field(default_factory=list)
    lost: list[tuple[str, str, str, str]] = field(default_factory=list)

    def per_partner(self) -> dict[str, dict[str, int]]:
        """{partner: {"gained": n, "lost": n}}, by partner id."""
        counts: dict[str, dict[str, int]] = {}
        for name, triples in (("gained", self.gained), ("lost", self.lost)):
            for *_, partner in triples:
                counts.setdefault(partner, {"gained": 0, "lost": 0})[name] += 1
        return dict(sorted(counts.items()))

    def as_dict(self) -> dict:
        """The --json form."""
        def listed(triples):
            return [{"user": u, "account": a, "action": act, "partner": p} for u, a, act, p in triples]
        return {"old": self.old_version, "new": self.new_version, "partners": self.per_partner(),
                "gained": listed(self.gained), "lost": listed(self.lost)}


def _flips(old: Policy, new: Policy, kind: str, action: str, groups: list[str], gained: bool) -> Matching:
    """The facts on an account of `kind` whose decision on `action` goes deny -> allow (gained) or back."""
    def flips(relation: str, home: str, link: str) -> bool:
        facts = Facts(kind, relation, home, link, SESSION)
        was, now = old.decide(facts, action).allowed, new.decide(facts, action).allowed
        return was != now and now == gained

    owner = {home: links for home in groups
             if (links := [None if link == NONE else link for link in (*groups, NONE)
                           if flips("owner", home, link)])}
    return Matching(home=[h for h in groups if flips("home", h, NONE)], owner=owner,
                    none=[h for h in groups if flips("none", h, NONE)])


def impact(old: Policy, new: Policy) -> Impact:
    """Every (user, account, action) of the directory whose decision differs between `old` and `new`."""
    groups = sorted(set(old.vocab.groups) | set(new.vocab.groups))
    kinds = sorted(set(old.vocab.account_kinds) | set(new.vocab.account_kinds))
    actions = sorted(set(old.vocab.actions) | set(new.vocab.actions))
    result = Impact(old.version, new.version)
    for kind in kinds:
        for gained, triples in ((True, result.gained), (False, result.lost)):
            by_match: dict[str, tuple[Matching, list[str]]] = {}
            for action in actions:
                match = _flips(old, new, kind, action, groups, gained)
                if match.home or match.owner or match.none:
                    by_match.setdefault(repr(match), (match, []))[1].append(action)
            for match, acts in by_match.values():
                for email, account, partner in holders.pairs(kind, match):
                    triples.extend((email, account, a, partner or account) for a in acts)
    result.gained.sort()
    result.lost.sort()
    return result
