"""An archive file of the decision log (R7.4): JSON lines, one entry each, as `authz log archive`
writes them (log/audit.py); read here with each line's shape checked, so that a line that is not
an entry is named (file and line), never a traceback."""

import json
from collections.abc import Iterator
from pathlib import Path


class ArchiveUnreadable(ValueError):
    """An archive file line that is not an entry as `archive` writes one."""


def read_archive(path: Path) -> Iterator[dict]:
    """The entries of an archive file (JSON lines), in chain order; ArchiveUnreadable names the
    first line that is not an entry."""
    with open(path, encoding="utf-8") as lines:
        number = 1
        try:
            for line in lines:
                if line.strip():
                    entry = json.loads(line)
                    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int) \
                            or not isinstance(entry.get("hash"), str) or not isinstance(entry.get("at"), str):
                        raise ValueError("not an entry")
                    yield entry
                number += 1
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArchiveUnreadable(f"{path} line {number}: {exc}") from None
