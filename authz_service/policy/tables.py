"""Decision tables under policies/tests/: user, action, account -> allow/deny (R9.3).

Columns: user, action, account, expect, group.
- expect is `allow` or `deny`; with action `*` it holds for every known action;
  `as` (with action `*`) means: every action decides as it does for a user whose
  home group is `group`, in an account of the same kind.
- group, when given, is the group the decision must report (`-` for none).
- Anything not listed for a (user, account) pair that a table names must deny.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass

from authz_service.policy.errors import PolicyError
from authz_service.policy.snapshot import TESTS, Snapshot
from authz_service.policy.vocabulary import Vocabulary

HEADER = ["user", "action", "account", "expect", "group"]
EXPECTS = ("allow", "deny", "as")


@dataclass(frozen=True)
class Row:
    """One line of a decision table."""

    user: str
    action: str
    account: str
    expect: str
    group: str
    where: str


def read(snap: Snapshot, vocab: Vocabulary) -> list[Row]:
    """Every row of policies/tests/*.csv, checked for known actions and groups."""
    rows, problems = [], []
    for file in snap.names(TESTS):
        name = f"{snap.prefix}/{file}"
        lines = [(n, t) for n, t in enumerate(snap.listed_text(file).splitlines(), 1)
                 if t.strip() and not t.lstrip().startswith("#")]
        if not lines or [c.strip() for c in lines[0][1].split(",")] != HEADER:
            problems.append((name, lines[0][0] if lines else 0, f"header must be {','.join(HEADER)}"))
            continue
        for number, text in lines[1:]:
            cells = [c.strip() for c in next(csv.reader([text]))]
            cells += [""] * (len(HEADER) - len(cells))
            user, action, account, expect, group = cells[:5]
            row = Row(user, action, account, expect, group, where=f"{name}:{number}")
            problems += [(name, number, msg) for msg in _problems(row, cells, vocab)]
            rows.append(row)
    if problems:
        raise PolicyError(problems)
    return rows


def _problems(row: Row, cells: list[str], vocab: Vocabulary) -> list[str]:
    found = [] if len(cells) == len(HEADER) else [f"{len(HEADER)} columns expected"]
    if row.action != "*" and not vocab.is_action(row.action):
        found.append(f"unknown action {row.action!r}")
    if row.expect not in EXPECTS:
        found.append(f"expect must be one of {EXPECTS}, not {row.expect!r}")
    if row.expect == "as" and (row.action != "*" or row.group not in vocab.groups):
        found.append("`as` needs action `*` and a known group")
    if row.group not in ("", "-", *vocab.groups):
        found.append(f"unknown group {row.group!r}")
    return found


def check_coverage(snap: Snapshot, vocab: Vocabulary) -> None:
    """Every known action needs at least one explicit test row (R9.2)."""
    rows = read(snap, vocab)
    covered = {r.action for r in rows}
    missing = [a for a in vocab.actions if a not in covered]
    if missing:
        raise PolicyError([(f"{snap.prefix}/{TESTS}", 0, f"no test row covers {a}") for a in missing])


Decide = Callable[[str, str, str], tuple[bool, str | None]]


@dataclass(frozen=True)
class Case:
    """One checked row (or one completeness check of a user on an account), with its failures."""

    name: str
    where: str
    failures: tuple[str, ...]


def run_cases(rows: list[Row], vocab: Vocabulary, decide: Decide, decide_as: Callable) -> list[Case]:
    """One Case per row, then one per (user, account) pair for "anything unlisted denies"."""
    cases = []
    listed: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        actions = vocab.actions if row.action == "*" else (row.action,)
        listed.setdefault((row.user, row.account), set()).update(actions)
        failures = [f for action in actions for f in _check(row, action, decide, decide_as)]
        cases.append(Case(f"{row.user} {row.action} on {row.account}", row.where, tuple(failures)))
    for (user, account), rowed in sorted(listed.items()):
        failures = [f"unlisted: {user} {action} on {account} is allowed; every allow needs a row"
                    for action in vocab.actions
                    if action not in rowed and decide(user, action, account)[0]]
        cases.append(Case(f"{user} on {account}: nothing unlisted is allowed", "completeness",
                          tuple(failures)))
    return cases


def _check(row: Row, action: str, decide: Decide, decide_as: Callable) -> list[str]:
    allowed, group = decide(row.user, action, row.account)
    want = decide_as(row.group, action, row.account) if row.expect == "as" else row.expect == "allow"
    failures = []
    if allowed != want:
        failures.append(f"{row.where}: {row.user} {action} on {row.account}: "
                        f"expected {'allow' if want else 'deny'}, got {'allow' if allowed else 'deny'}")
    if row.group and (group or "-") != row.group:
        failures.append(f"{row.where}: {row.user} on {row.account}: expected group {row.group}, "
                        f"got {group or '-'}")
    return failures
