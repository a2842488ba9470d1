"""What a policy change does: the (kind, group, action) cells and scoping cells that differ."""

from authz_service.policy.facts import NONE, Facts


def cells(policy) -> dict[tuple, bool]:
    """Every (kind, group, action) -> allowed for a user holding the group there."""
    vocab = policy.vocab
    return {(kind, group, action): policy.decide(Facts(kind, "home", group, NONE, "none"), action).allowed
            for kind in vocab.account_kinds for group in vocab.groups for action in vocab.actions}


def scoping(policy) -> dict[tuple, str]:
    """(home group, link group) -> the group a partner user holds in a customer."""
    vocab = policy.vocab
    return {(home, link): policy.decide(Facts("customer", "owner", home, link, "none"), "account.view").group or "none"
            for home in vocab.groups for link in (NONE, *vocab.groups)}


def diff(old, new) -> list[str]:
    """Lines a reviewer reads on a pull request.

    A permission cell absent on one side (a new or removed group or action) counts
    as deny; scoping is compared for the groups both policies know.
    """
    lines = []
    before, after = cells(old), cells(new)
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key, False), after.get(key, False)
        if was != now:
            kind, group, action = key
            lines.append(f"{kind:8s} {group:10s} {action:32s} {'allow' if was else 'deny'} -> "
                         f"{'allow' if now else 'deny'}")
    held_before, held_after = scoping(old), scoping(new)
    for key in sorted(set(held_before) & set(held_after)):  # a new group's own cells are listed above
        held, holds = held_before[key], held_after[key]
        if held != holds:
            home, link = key
            lines.append(f"scoping  home {home:10s} link {link:10s} holds {held} -> {holds}")
    return lines
