"""The spool's records as the log writer reads them (docs/decisions/007-log-spool.md, 050): the
worker's side, which writes them, is log/spool.py."""

import json

from authz_service.give_way import give_way


def _entries(record: dict) -> list | None:
    """A record's entries (or rows, in the form before), when they are a list."""
    found = record.get("entries", record.get("rows"))
    return found if isinstance(found, list) else None


def entry_ids(record: dict) -> list:
    """The ids of a record's entries, in either form (each begins with its id)."""
    return [item[0] for item in _entries(record) or [] if isinstance(item, list) and item]


def records(data: bytes) -> tuple[list[dict], int]:
    """The complete records at the start of data, and how many bytes they took.

    A line that is not a record (a write cut short) is skipped; an unfinished last line waits.
    """
    out: list[dict] = []
    used = 0
    while True:
        end = data.find(b"\n", used)
        if end < 0:
            return out, used
        text = data[used:end].strip()
        used = end + 1
        if text:
            try:
                record = _one_value(text)
            except ValueError:
                continue
            if isinstance(record, dict) and _entries(record) is not None:
                out.append(record)
            give_way()  # a read is up to 4 MB of lines (decision 054)


_SCAN = json.JSONDecoder().raw_decode


def _one_value(text: bytes):
    """json.loads(text), without the wrappers it runs for each call, for a line as a worker writes
    it (an object, in UTF-8: the log writer reads every record with this); anything else is read by
    json.loads itself, which guesses other encodings. ValueError for what is not one JSON value."""
    if text[:1] != b"{" or text[1:2] == b"\x00":  # json.detect_encoding: UTF-16 or 32, not UTF-8
        return json.loads(text)
    line = text.decode("utf-8", "surrogatepass")  # as json.loads decodes UTF-8 bytes
    value, end = _SCAN(line)
    if end != len(line):  # stripped already: anything after the value is not a record
        raise ValueError("more than one JSON value on a line")
    return value
