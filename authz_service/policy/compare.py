"""Compare two policies cell by cell (R9.7): which cells of the derived table change, and the verdict.

Exact by construction: every possible cell (facts.is_possible) of either table is decided by both
policies, a cell one policy does not know deciding as that policy decides it (deny, no group).
The verdict speaks of permissions, as Cedar's analyzer does: `equivalent` (no cell's decision
changes), `more permissive` (only denials become allows), `less permissive` (only allows become
denials), `incomparable` (both). A cell whose decision stays but whose group held changes (R4) is
listed apart and leaves the verdict alone (docs/decisions/031-policy-invariants.md).
"""

from dataclasses import dataclass

from authz_service.policy.facts import NONE, Facts, is_possible

EQUIVALENT, MORE, LESS, INCOMPARABLE = "equivalent", "more permissive", "less permissive", "incomparable"


@dataclass(frozen=True)
class Cell:
    """One cell whose decision or group held differs between the two policies."""

    facts: Facts
    action: str
    was: bool
    now: bool
    held_was: str  # the group held ("-": none)
    held_now: str

    @property
    def group(self) -> str:
        """The group that gains the action (new policy) or loses it (old policy)."""
        return self.held_now if self.now else self.held_was

    def as_dict(self) -> dict:
        """For --json."""
        return {**self.facts._asdict(), "action": self.action, "was": self.was, "now": self.now,
                "held_was": self.held_was, "held_now": self.held_now}


@dataclass(frozen=True)
class Comparison:
    """What changes from `old` to `new`: every changed cell and the overall verdict."""

    old_version: str
    new_version: str
    cells: list[Cell]

    @property
    def flipped(self) -> list[Cell]:
        """The cells whose decision changes."""
        return [c for c in self.cells if c.was != c.now]

    @property
    def regrouped(self) -> list[Cell]:
        """The cells whose decision stays but whose group held changes."""
        return [c for c in self.cells if c.was == c.now]

    @property
    def verdict(self) -> str:
        gained = any(c.now for c in self.flipped)
        lost = any(c.was for c in self.flipped)
        return INCOMPARABLE if gained and lost else MORE if gained else LESS if lost else EQUIVALENT

    def by_cell(self) -> dict[tuple[str, str, str, str], list[Cell]]:
        """(kind, group, action, gained|lost) -> the changed cells, sorted: the reviewer's summary."""
        rows: dict[tuple[str, str, str, str], list[Cell]] = {}
        for cell in self.flipped:
            key = (cell.facts.kind, cell.group, cell.action, "gained" if cell.now else "lost")
            rows.setdefault(key, []).append(cell)
        return dict(sorted(rows.items()))

    def as_dict(self) -> dict:
        """The --json form: verdict, counts, the summary rows and every changed cell."""
        return {"old": self.old_version, "new": self.new_version, "verdict": self.verdict,
                "gained": sum(c.now for c in self.flipped), "lost": sum(c.was for c in self.flipped),
                "regrouped": len(self.regrouped),
                "changes": [{"kind": k, "group": g, "action": a, "change": ch,
                             "facts": [c.facts.who for c in cells]}
                            for (k, g, a, ch), cells in self.by_cell().items()],
                "cells": [c.as_dict() for c in self.cells]}

    def lines(self) -> list[str]:
        """The text form a reviewer pastes into a pull request."""
        out = [f"{self.old_version} -> {self.new_version}: {self.verdict}"]
        for (kind, group, action, change), cells in self.by_cell().items():
            whos = ", ".join(c.facts.who for c in cells[:3]) + (", ..." if len(cells) > 3 else "")
            out.append(f"  {kind:8s} {group:10s} {action:32s} {change:6s} {len(cells):3d} fact(s): {whos}")
        held = sorted({(c.facts.kind, c.facts.who, c.held_was, c.held_now) for c in self.regrouped})
        out += [f"  {kind:8s} {who:36s} holds {was} -> {now}" for kind, who, was, now in held]
        out.append(f"{len(self.flipped)} cell(s) change their decision, {len(self.regrouped)} only the group held")
        return out


def compare(old, new) -> Comparison:
    """Every possible cell of either table where the two policies decide or hold differently."""
    keys = {k for k in (*old.table, *new.table) if is_possible(Facts(*k[:5]))}
    changed = []
    for key in sorted(keys):
        facts, action = Facts(*key[:5]), key[5]
        a, b = old.decide(facts, action), new.decide(facts, action)
        if a.allowed != b.allowed or a.group != b.group:
            changed.append(Cell(facts, action, a.allowed, b.allowed, a.group or NONE, b.group or NONE))
    return Comparison(old.version, new.version, changed)
