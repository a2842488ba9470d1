"""The activity exports (decision 036): each entry exactly as GET /v1/decisions shows it, as one
JSON object per line (NDJSON) or one CSV row, its target split into two columns."""

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterator

from authz_service.api.log_schemas import EntryOut

KINDS = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
COLUMNS = ("entry_id", "at", "user", "action", "resource_type", "resource_id", "allowed", "group",
           "on_behalf_of_partner", "session", "decision_id", "rule", "reason", "account", "caller",
           "altered", "facts", "policy_version")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a
# cell is written with a leading apostrophe, which spreadsheets show as text and do not keep.
# Spreadsheets also read the full-width and small forms (U+FF1D, U+FE62, ...) as these, and skip
# leading blanks and control characters: the check is on the first other character, NFKC-folded.
FORMULA_START = ("=", "+", "-", "@")
SKIPPED = ("Cc", "Cf", "Zs", "Zl", "Zp")  # control, format (zero-width, BOM) and space characters


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula (decision 042): it opens with a tab
    or a carriage return, or its first character that is not blank or control is one of
    FORMULA_START in any of its compatibility forms."""
    if text.startswith(("\t", "\r")):
        return True
    first = next((c for c in text if unicodedata.category(c) not in SKIPPED), "")
    return unicodedata.normalize("NFKC", first).startswith(FORMULA_START)


def csv_cell(value) -> str:
    """One value as a CSV cell: booleans as true/false, null as empty, an object (the recorded
    facts, R9.7) as compact JSON with sorted keys, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if is_formula(text) else text


def csv_row(entry: dict) -> list[str]:
    """An entry as the API shows it, in COLUMNS order."""
    target = entry.get("resource") or {}
    flat = {**entry, "resource_type": target.get("type"), "resource_id": target.get("id")}
    return [csv_cell(flat.get(column)) for column in COLUMNS]


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def lines(kind: str, page: Callable[[str | None], tuple[list[dict], str | None]]) -> Iterator[str]:
    """Every entry of every page, newest first: a header then rows (CSV) or objects (NDJSON)."""
    schema = EntryOut()
    if kind == "csv":
        yield _csv_line(list(COLUMNS))
    cursor: str | None = None
    while True:
        items, cursor = page(cursor)
        for item in items:
            shown = schema.dump(item)
            yield _csv_line(csv_row(shown)) if kind == "csv" else json.dumps(shown, ensure_ascii=False) + "\n"
        if cursor is None:
            return
