"""Which facts hold a group, or may do an action, on an account of one kind (R10.3).

Read from the policy's decision table, never from group names in Python (R9.1): every
(relation, home group, link group) the service can gather, with no view session (who can
act is asked outside any session, R6), is looked up once; the store then selects the users
or accounts whose facts are among those (docs/decisions/027-who-can-act.md).
"""

from authz_service.policy import NONE, Facts, Policy, Verdict
from authz_service.store.holders import Matching, Reaching

SESSION = "none"
VIA = {"home": "home", "none": "other"}  # owner: "link" or "partner_admin", from the policy


def verdict(policy: Policy, kind: str, relation: str, home: str, link: str, action: str | None) -> Verdict:
    """The table's verdict for these facts; without an action, any action (the group is the same)."""
    return policy.decide(Facts(kind, relation, home, link, SESSION), action or policy.vocab.actions[0])


def counts(policy: Policy, kind: str, relation: str, home: str, link: str, action: str | None) -> bool:
    """With an action: the policy allows it; without: the user holds a group there."""
    found = verdict(policy, kind, relation, home, link, action)
    return found.allowed if action is not None else found.group is not None


def _links(policy: Policy, kind: str, home: str, action: str | None) -> list[str | None]:
    """The link groups (None: no link) with which a `home` partner user counts on an owned account."""
    return [None if link == NONE else link for link in (*policy.vocab.groups, NONE)
            if counts(policy, kind, "owner", home, link, action)]


def matching(policy: Policy, kind: str, action: str | None) -> Matching:
    """Every user's facts that count on an account of this kind (R4.1, R4.2, R4.7)."""
    groups = policy.vocab.groups
    owner = {home: links for home in groups if (links := _links(policy, kind, home, action))}
    return Matching(home=[h for h in groups if counts(policy, kind, "home", h, NONE, action)],
                    owner=owner,
                    none=[h for h in groups if counts(policy, kind, "none", h, NONE, action)])


def reaching(policy: Policy, home_kind: str, home_group: str, action: str | None) -> Reaching:
    """The accounts where a user of this home kind and group counts, by relation and kind."""
    kinds = policy.vocab.account_kinds
    owner = {kind: links for kind in kinds if (links := _links(policy, kind, home_group, action))}
    return Reaching(home=counts(policy, home_kind, "home", home_group, NONE, action), owner=owner,
                    none=[k for k in kinds if counts(policy, k, "none", home_group, NONE, action)])


def held(policy: Policy, kind: str, relation: str, home: str, link: str | None,
         action: str | None) -> tuple[str | None, str]:
    """(the group the policy resolves, how it is held: home, partner_admin, link or other).

    An owner's group comes from the link when, without the link, the policy would resolve
    another group or none; else the user holds it as a partner admin (R4.1), and a link they
    keep from before is unused (R4.9): its group is not reported.
    """
    link = (link or NONE) if relation == "owner" else NONE
    group = verdict(policy, kind, relation, home, link, action).group
    if relation != "owner":
        return group, VIA[relation]
    unlinked = verdict(policy, kind, relation, home, NONE, action).group
    return group, "partner_admin" if unlinked is not None and unlinked == group else "link"
