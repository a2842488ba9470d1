"""An archive file of the decision log (R7.4): JSON lines, one entry each, as `authz log archive`
writes them (log/audit.py); read here with each line's shape checked, so that a line that is not
an entry is named (file and line), never a traceback."""

import json
from collections.abc import Iterator
from pathlib import Path

from authz_service.store.entry_form import CONTENT

_TEXT = ("hash", "prev_hash", "at")  # the chain's fields a verifier reads as text


class ArchiveUnreadable(ValueError):
    """An archive file line that is not an entry as `archive` writes one."""


def _is_entry(entry: object) -> bool:
    """Every field the chain and the hashed content read, `seq` a number and the chain's text as text."""
    return (isinstance(entry, dict) and isinstance(entry.get("seq"), int)
            and all(isinstance(entry.get(k), str) for k in _TEXT) and all(k in entry for k in CONTENT))


def read_archive(path: Path) -> Iterator[dict]:
    """The entries of an archive file (JSON lines), in chain order; ArchiveUnreadable names the
    first line that is not an entry, so its readers never meet a field missing or mistyped."""
    with open(path, encoding="utf-8") as lines:
        number = 1
        try:
            for line in lines:
                if line.strip():
                    entry = json.loads(line)
                    if not _is_entry(entry):
                        raise ValueError("not an entry")
                    yield entry
                number += 1
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArchiveUnreadable(f"{path} line {number}: {exc}") from None
