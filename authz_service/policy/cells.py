"""The policy's cells, enumerated in one place (docs/decisions/024-one-way-in.md): what each group may
do inside an account where it holds that group (R3), and which group a partner user holds in a
customer of their partner (R4). The matrix (R9.4), the diff (R9.7), the console's policy page and the
decision tables' `as` rows (R9.3) all read them here.
"""

from collections.abc import Iterator
from itertools import groupby
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple

from authz_service.policy.facts import NONE, Facts

if TYPE_CHECKING:
    from authz_service.policy import Policy

SCOPING_ACTION = "account.view"  # every group holds it on a customer: it names the group held (R4)


class Cell(NamedTuple):
    """R3: may a user holding `group` in an account of `kind` do `action` there."""

    kind: str
    group: str
    action: str
    allowed: bool


class ScopingCell(NamedTuple):
    """R4: the group (None: none) a partner user of home group `home`, linked as `link` ("-": not
    linked), holds in a customer of their partner."""

    home: str
    link: str
    group: str | None


def holding(kind: str, group: str) -> Facts:
    """The facts of a user whose home is an account of `kind`, holding `group` there (R3)."""
    return Facts(kind, "home", group, NONE, "none")


def cells(policy: "Policy") -> Iterator[Cell]:
    """Every R3 cell: account kind, then action, then group, in the vocabulary's order."""
    vocab = policy.vocab
    for kind in vocab.account_kinds:
        for action in vocab.actions:
            for group in vocab.groups:
                yield Cell(kind, group, action, policy.decide(holding(kind, group), action).allowed)


def scoping_cells(policy: "Policy") -> Iterator[ScopingCell]:
    """Every R4 cell: home group, then link group (no link first)."""
    groups = policy.vocab.groups
    for home in groups:
        for link in (NONE, *groups):
            facts = Facts("customer", "owner", home, link, "none")
            yield ScopingCell(home, link, policy.decide(facts, SCOPING_ACTION).group)


def grid(policy: "Policy") -> list[tuple[str, list[tuple[str, list[bool]]]]]:
    """The R3 cells as tables: [(kind, [(action, [allowed for each group])])]."""
    return [(kind, [(action, [c.allowed for c in row]) for action, row in groupby(block, attrgetter("action"))])
            for kind, block in groupby(cells(policy), attrgetter("kind"))]


def scoping_grid(policy: "Policy") -> list[tuple[str, list[str | None]]]:
    """The R4 cells as a table: [(home group, [group held with no link, then linked as each group])]."""
    return [(home, [c.group for c in row]) for home, row in groupby(scoping_cells(policy), attrgetter("home"))]

