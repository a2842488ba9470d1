"""The spool's record form (log/spool.py; docs/decisions/050-spool-records-carry-the-content.md): a
worker writes each entry's hashed content as it is, and the log writer reads from it the row and
the bytes the worker would have stored before (R7.1, R7.4). Records of the form before are still
read, so a spool left by an earlier version is stored after an upgrade."""

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authz_service.log import chain, ingest, spool, spool_records
from authz_service.store import decisions, entry_form
from tests.support.log_entries import entry, wire

ENTRIES = {
    "plain": entry(1, id="a" * 32),
    "altered": entry(2, id="b" * 32, reason="x" * 3000),  # cut to its column: `altered` true
    "with facts": entry(3, id="c" * 32, facts='{"kind":"customer"}', policy_version="abc123def456"),
    "whole second": entry(4, id="d" * 32, at=datetime(2026, 3, 1, 12, 0, 4)),  # str() drops .000000
    "no account": entry(5, id="e" * 32, account_id=None, log_account=None, resource_type=None),
    "odd text": entry(6, id="f" * 32, reason='é "q" \\ \u2028 \x01 \ud800 \x00 ☃', resource_id="<\n>"),
}
SQLITE = pytest.mark.parametrize("sqlite", [True, False], ids=["sqlite", "postgresql"])


def _written(entries: list[dict], activity=None) -> tuple[list[tuple], dict]:
    """The entries as chain.append fills them, and the record a worker writes for them, read back."""
    prepared = [chain._filled(dict(e)) for e in entries]
    data = spool.line([body for _, body in prepared], activity)
    found, used = spool_records.records(data)
    assert used == len(data) and len(found) == 1
    return prepared, found[0]


@SQLITE
@pytest.mark.parametrize("name", ENTRIES)
def test_the_writer_reads_the_row_and_the_bytes_the_worker_made(name, sqlite, monkeypatch):
    monkeypatch.setattr(decisions, "_is_sqlite", lambda: sqlite)
    prepared, record = _written([ENTRIES[name]])
    filled, body = prepared[0]
    assert ingest._prepared(record) == [(body, decisions.row_start(filled))]


@SQLITE
def test_a_record_of_the_form_before_is_read_as_it_was(sqlite, monkeypatch):
    """{"rows": [[row start as JSON takes it..., content as text]]}, as an earlier version wrote it."""
    monkeypatch.setattr(decisions, "_is_sqlite", lambda: sqlite)
    prepared = [chain._filled(dict(e)) for e in ENTRIES.values()]
    rows = [[*wire(decisions.row_start(e)), body.decode()] for e, body in prepared]
    found, _ = spool_records.records(b"\n" + json.dumps({"rows": rows, "activity": None}).encode() + b"\n")
    assert ingest._prepared(found[0]) == [(body, decisions.row_start(e)) for e, body in prepared]
    assert spool_records.entry_ids(found[0]) == [e["id"] for e, _ in prepared]


def test_ids_and_activity_of_a_record():
    prepared, record = _written(list(ENTRIES.values()), [["initech"], "2026-03-01T12:00:00"])
    assert spool_records.entry_ids(record) == [e["id"] for e, _ in prepared]
    assert record["activity"] == [["initech"], "2026-03-01T12:00:00"]
    assert spool_records.entry_ids({"entries": "x"}) == [] and spool_records.entry_ids({}) == []


TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.none()


@settings(max_examples=300, deadline=None)
@given(user=st.text(st.characters(codec="utf-8"), min_size=1, max_size=40), reason=TEXT, target=TEXT,
       caller=TEXT, facts=TEXT, microsecond=st.integers(0, 999_999))
def test_any_text_comes_back_as_the_same_bytes(user, reason, target, caller, facts, microsecond):
    """Whatever text an entry holds (after log/values.py made it storable), the content the writer
    re-encodes is byte for byte the worker's, and its row the worker's row."""
    one = entry(7, user_email=user, reason=reason or "", resource_id=target, caller=caller, facts=facts,
                policy_version="v" if facts else None, at=datetime(2026, 3, 1, 12, 0, 7, microsecond))
    prepared, record = _written([one])
    filled, body = prepared[0]
    assert ingest._prepared(record) == [(body, decisions.row_start(filled))]
    assert entry_form.encoded(json.loads(body)) == body


VALUES = st.lists(st.none() | st.booleans() | st.integers() | st.text(st.characters(codec="utf-8"), max_size=30),
                  max_size=20)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_the_content_encoder_writes_what_json_dumps_writes(fields):
    """entry_form's encoder, made once (json's C encoder) or not (without C speedups), writes the
    bytes every entry has been hashed from: json.dumps, compact, ensure_ascii=False (R7.4)."""
    expected = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    assert entry_form.encoded(fields) == expected
    made, entry_form._C_ENCODER = entry_form._C_ENCODER, None
    try:
        assert entry_form.encoded(fields) == expected
    finally:
        entry_form._C_ENCODER = made
    with pytest.raises(TypeError):
        entry_form.encoded([*fields, object()])


def _records_one_by_one(data: bytes) -> list:
    """The records at the start of data as json.loads reads each line (the reference for spool.records)."""
    found = []
    for text in data[: data.rfind(b"\n") + 1].split(b"\n"):
        try:
            record = json.loads(text) if text.strip() else None
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("entries", record.get("rows")), list):
            found.append(record)
    return found


LINES = st.one_of(
    st.builds(lambda ids, activity: spool.line([entry_form.encoded([i, "2026-03-01T12:00:04.000001"]) for i in ids],
                                               activity).strip(b"\n"),
              st.lists(st.text(max_size=8), max_size=3), st.none() | st.just([["c1"], "2026-03-01T12:00:04"])),
    st.binary(max_size=30),  # garbage, invalid UTF-8 among it
    st.sampled_from([b'{"entries":[]} {"entries":[]}', b'{"entries":[]}x', b'  {"entries":[]}  ', b'[1]',
                     b'{"entries":{}}', b'{"rows":[["a"]]}', b'{"entries":[]', b'"\xed\xa0\x80"', b'{"entries":[],}',
                     b'{"entries":["\xed\xa0\x80"]}', b"\xef\xbb\xbf{\"entries\":[]}", b"NaN", b'{"entries":[NaN]}',
                     "{\"entries\":[]}".encode("utf-16-le"), b'{"entries":[]}\x00']),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=8), st.binary(max_size=12))
def test_records_are_read_as_json_loads_reads_each_line(lines, tail):
    """R7.4: spool_records.records reads each line with one decode and one scan (no json.loads
    wrappers): the same records as json.loads line by line, for records, garbage, two values on a
    line, surrounding blanks, a lone surrogate's bytes, a byte order mark, UTF-16, and an
    unfinished last line."""
    data = b"".join(b"\n" + line + b"\n" for line in lines) + tail.replace(b"\n", b"")
    found, used = spool_records.records(data)
    assert found == _records_one_by_one(data)
    assert used == data.rfind(b"\n") + 1
