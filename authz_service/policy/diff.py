"""What a policy change does: the (kind, group, action) cells and scoping cells that differ."""

from authz_service.policy import cells


def permissions(policy) -> dict[tuple, bool]:
    """Every (kind, group, action) -> allowed for a user holding the group there (cells.cells)."""
    return {(c.kind, c.group, c.action): c.allowed for c in cells.cells(policy)}


def scoping(policy) -> dict[tuple, str]:
    """(home group, link group) -> the group a partner user holds in a customer (cells.scoping_cells)."""
    return {(c.home, c.link): c.group or "none" for c in cells.scoping_cells(policy)}


def diff(old, new) -> list[str]:
    """Lines a reviewer reads on a pull request.

    A permission cell absent on one side (a new or removed group or action) counts
    as deny; scoping is compared for the groups both policies know.
    """
    lines = []
    before, after = permissions(old), permissions(new)
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
