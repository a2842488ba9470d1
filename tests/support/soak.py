"""Soak accounting: reliability and security tests report what they tried; pytest prints a table.

`make soak` sets AUTHZ_SOAK=10, and each test runs that many times longer or more
rounds (SCALE). Every test adds its counts with `tally(...)`.
"""

import os
from collections import defaultdict

SCALE = max(1, int(os.environ.get("AUTHZ_SOAK", "1")))
COLUMNS = ("requests", "faults", "server_errors", "lost", "unauthorized")
HEADINGS = ("requests tried", "faults injected", "500s seen", "entries lost", "unauthorized changes")
_totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))


def tally(test: str, **counts: int) -> None:
    """Add counts for one test (names from COLUMNS)."""
    for name, value in counts.items():
        _totals[test][name] += int(value)


def table() -> list[str]:
    """The summary lines, or [] when nothing was tallied."""
    if not _totals:
        return []
    width = max(len(t) for t in _totals) + 2
    lines = [f"{'test':{width}s}" + "".join(f"{h:>22s}" for h in HEADINGS)]
    for test, counts in sorted(_totals.items()):
        lines.append(f"{test:{width}s}" + "".join(f"{counts[c]:>22d}" for c in COLUMNS))
    total = {c: sum(t[c] for t in _totals.values()) for c in COLUMNS}
    lines.append(f"{'total':{width}s}" + "".join(f"{total[c]:>22d}" for c in COLUMNS))
    return lines
