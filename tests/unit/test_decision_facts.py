"""Each decision entry records its facts and policy version inside the hashed content (R9.7),
while an entry without them encodes, hashes and verifies exactly as before (R7.4, R7.6;
docs/decisions/033-decision-facts-and-replay.md)."""

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.log import audit, chain
from authz_service.policy.facts import Facts, as_text, from_text
from authz_service.store import decisions, migrations
from authz_service.store.entry_form import CONTENT, content
from authz_service.store.models import Decision, SchemaVersion, database
from tests.support.log_entries import append, entry
from tests.support.log_entries import wire as old_wire

FACTS = as_text(Facts("customer", "owner", "admin", "-", "none"))


@pytest.fixture
def log(app, database_url, monkeypatch):
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)


def verify() -> str:
    done = CliRunner().invoke(main, ["log", "verify"])
    return f"{done.exit_code}: {done.output}"


def test_an_entry_without_facts_encodes_exactly_as_before():
    """R7.4: old leaves and chain hashes stay valid: the same 15 values (16 when altered)."""
    prepared = chain._prepare(entry(3, id="b" * 32))[0]
    old_form = [prepared[k] for k in CONTENT]
    old_form[CONTENT.index("at")] = prepared["at"].isoformat(timespec="microseconds")
    assert content(prepared) == json.dumps(old_form, separators=(",", ":"), ensure_ascii=False).encode()
    altered = {**prepared, "altered": True}
    assert content(altered) == json.dumps([*old_form, True], separators=(",", ":"), ensure_ascii=False).encode()


def test_the_facts_and_the_version_are_hashed():
    """R9.7: changing, clearing or adding the facts or the version changes the content."""
    base = chain._prepare(entry(4, id="c" * 32, facts=FACTS, policy_version="abc123def456"))[0]
    first = content(base)
    assert len(json.loads(first)) == len(CONTENT) + 3
    other_facts = as_text(Facts("customer", "owner", "support", "-", "none"))
    for change in ({"facts": other_facts}, {"policy_version": "000000000000"}, {"facts": None},
                   {"facts": None, "policy_version": None}, {"altered": True}):
        assert content({**base, **change}) != first, change
    bare = chain._prepare(entry(4, id="c" * 32))[0]
    assert content({**bare, "facts": FACTS, "policy_version": "abc123def456"}) == first


def test_facts_read_back_exactly():
    """Any group text (a group set in the database) reads back as the same facts; junk reads as none."""
    odd = Facts("customer", "owner", 'a/b "c" é', "-", "elsewhere")
    assert from_text(as_text(odd)) == odd
    for junk in (None, "", "[1,2,3,4,5]", '["a","b"]', "{}", "not json"):
        assert from_text(junk) is None


@pytest.mark.parametrize("change", [
    "UPDATE decision SET facts = '[\"customer\",\"owner\",\"support\",\"-\",\"none\"]' WHERE seq = 2",
    "UPDATE decision SET facts = NULL, policy_version = NULL WHERE seq = 2",
    "UPDATE decision SET policy_version = 'ffffffffffff' WHERE seq = 2",
    f"UPDATE decision SET facts = '{FACTS}', policy_version = 'abc' WHERE seq = 1",
])
def test_altering_recorded_facts_is_found(log, change):
    """R7.4, R9.7: facts are inside the hash; altering, clearing or adding them fails verify."""
    append([entry(1), entry(2, facts=FACTS, policy_version="abc123def456"), entry(3)])
    assert verify().startswith("0")
    with store.connection():
        database.execute_sql(change)
    assert verify().startswith("1")


def test_migration_8_keeps_old_entries_readable_and_verifying(log, database_url):
    """A log written before migration 8 (no facts columns) migrates and verifies; its entries
    read with no facts; entries written after it carry theirs, and the whole chain verifies."""
    append([entry(n) for n in range(5)])
    with store.connection():
        for name in ("facts", "policy_version"):
            database.execute_sql(f'ALTER TABLE "decision" DROP COLUMN "{name}"')
        SchemaVersion.delete().where(SchemaVersion.version == 8).execute()
        assert migrations.run(database.obj) == [8]
    assert verify().startswith("0")
    append([entry(9, facts=FACTS, policy_version="abc123def456")])
    with store.connection():
        rows = list(Decision.select().order_by(Decision.seq))
        assert [r.facts for r in rows] == [None] * 5 + [FACTS]
        assert audit.verify().problem is None
    assert verify().startswith("0")


def test_archives_keep_the_facts_and_verify_with_them(log, tmp_path):
    """R7.4, R9.7: an archive file carries each entry's facts and version; the chain verifies
    through it; a fact edited in the archive is found."""
    append([entry(n, at=datetime(2026, 1, 1, 0, 0, n), facts=FACTS, policy_version="abc123def456")
            for n in range(3)] + [entry(9, at=datetime(2026, 1, 1, 0, 1))])
    append([entry(n, at=datetime(2026, 6, 1, 0, 0, n), facts=FACTS, policy_version="abc123def456")
            for n in range(2)])
    out = tmp_path / "2026-05.jsonl"
    done = CliRunner().invoke(main, ["log", "archive", "--before", "2026-05-01", "--out", str(out)])
    assert done.exit_code == 0, done.output
    archived = [json.loads(line) for line in out.read_text().splitlines()]
    assert [a["facts"] for a in archived] == [FACTS] * 3 + [None]
    assert "ok: 6 entries" in CliRunner().invoke(main, ["log", "verify", "--archive", str(out)]).output
    archived[0]["facts"] = as_text(Facts("customer", "owner", "support", "-", "none"))
    out.write_text("".join(json.dumps(a) + "\n" for a in archived))
    failed = CliRunner().invoke(main, ["log", "verify", "--archive", str(out)])
    assert failed.exit_code == 1 and "FAILED at entry 1" in failed.output


def test_a_spool_row_written_before_the_facts_reads_as_without_them(log):
    """A spool record from before migration 8 (one value fewer than two) is stored as an entry
    without facts; a row of any other length is refused."""
    start = decisions.row_start(chain._prepare(entry(1))[0])
    wire = old_wire(start)
    with store.connection():
        assert decisions.row_from_wire(wire[:-2])[-2:] == (None, None)
        assert decisions.row_from_wire(wire[:-3])[-3:] == (False, None, None)
        with pytest.raises(ValueError):
            decisions.row_from_wire(wire[:-1])
