"""The decision log's hash chain: group commit, tamper evidence, archiving (R7.1, R7.4)."""

import json
import threading
from datetime import datetime

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.log import chain
from authz_service.store import summary
from authz_service.store.models import Decision, database, utcnow
from tests.support.log_entries import append, entry


@pytest.fixture
def log(app, database_url, monkeypatch):
    """A fresh database for the log, and `authz log ...` pointed at it."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)


def authz(*args: str):
    """`authz ARGS...` in this process, on the test's database."""
    return CliRunner().invoke(main, list(args))


def sql(statement: str) -> None:
    with store.connection():
        database.execute_sql(statement)


def ids_in_order() -> list[str]:
    with store.connection():
        return [d.id for d in Decision.select().order_by(Decision.seq)]


def test_the_hash_covers_every_field_and_the_place_in_the_chain():
    """R7.4: changing any recorded field, the position or the previous hash changes the hash."""
    base = chain._prepare(entry(1, id="a" * 32))[0]
    first = chain.chain_hash(5, "0" * 64, chain.content(base))
    for field in chain.CONTENT:
        other = {None: "x", True: False, False: True}.get(base[field])
        changed = {**base, field: datetime(2027, 1, 1) if field == "at" else other}
        assert chain.chain_hash(5, "0" * 64, chain.content(changed)) != first, field
    assert chain.chain_hash(6, "0" * 64, chain.content(base)) != first
    assert chain.chain_hash(5, "1" * 64, chain.content(base)) != first


def test_concurrent_appends_make_one_valid_chain(log):
    """R7.1, R7.4: 8 threads appending at once: every id recorded once, one unbroken chain."""
    ids, errors = [], []

    def work(k):
        try:
            with store.connection():
                for n in range(40):
                    ids.extend(chain.append([entry(n), entry(n + 1)]))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(ids)) == len(ids) == 640
    assert sorted(ids_in_order()) == sorted(ids)
    result = authz("log", "verify")
    assert result.exit_code == 0 and "ok: 640 entries" in result.output


@pytest.mark.parametrize("change", [
    "UPDATE decision SET reason = 'nothing to see' WHERE seq = 3",
    "UPDATE decision SET allowed = NOT allowed WHERE seq = 3",
    "UPDATE decision SET hash = (SELECT hash FROM decision WHERE seq = 2) WHERE seq = 3",
])
def test_editing_one_stored_entry_fails_verify_naming_it(log, change):
    """R7.4: one edited row; `authz log verify` exits 1 and names entry 3 and its decision."""
    ids = append([entry(n) for n in range(6)])
    assert authz("log", "verify").exit_code == 0
    sql(change)
    result = authz("log", "verify")
    assert result.exit_code == 1
    assert "FAILED at entry 3" in result.output and ids[2] in result.output


def test_a_deleted_entry_is_named(log):
    """R7.4: a row deleted from the database leaves a gap the walk names."""
    append([entry(n) for n in range(5)])
    sql("DELETE FROM decision WHERE seq = 2")
    result = authz("log", "verify")
    assert result.exit_code == 1 and "FAILED at entry 3" in result.output
    assert "entries missing" in result.output


def test_archiving_keeps_the_chain_verifiable(log, tmp_path):
    """R7.4: old entries move to a JSON lines file; live and archive+live both verify."""
    old = append([entry(n, at=datetime(2026, 1, 1, 0, 0, n)) for n in range(5)])
    new = append([entry(n, at=datetime(2026, 6, 1, 0, 0, n)) for n in range(4)])
    out = tmp_path / "2026-05.jsonl"
    result = authz("log", "archive", "--before", "2026-05-01", "--out", str(out))
    assert result.exit_code == 0 and "archived 5 entries" in result.output
    archived = [json.loads(line) for line in out.read_text().splitlines()]
    assert [a["id"] for a in archived] == old
    assert ids_in_order() == new
    assert "ok: 4 entries" in authz("log", "verify").output
    assert "ok: 9 entries" in authz("log", "verify", "--archive", str(out)).output
    assert authz("log", "archive", "--before", "2026-05-01", "--out", str(out)).exit_code == 1
    archived[1]["user_email"] = "someone@else.example"
    out.write_text("".join(json.dumps(a) + "\n" for a in archived))
    result = authz("log", "verify", "--archive", str(out))
    assert result.exit_code == 1 and "FAILED at entry 2" in result.output
    for garbage in ("{not json", "[1, 2]", '{"seq": "2", "hash": "x", "at": "2026"}', '{"seq": 2, "hash": "x", "at": "z"}',
                    json.dumps({k: v for k, v in archived[1].items() if k != "user_email"})):  # a hashed field missing
        out.write_text(json.dumps(archived[0]) + "\n" + garbage + "\n")  # a line that is not an entry: said, no traceback
        result = authz("log", "verify", "--archive", str(out))
        assert result.exit_code == 1 and "FAILED at entry 2" in result.output, (garbage, result.output)
        assert isinstance(result.exception, SystemExit), (garbage, result.exception)


def test_a_failing_companion_keeps_nothing_of_that_call(log, monkeypatch):
    """R5.6 last activity moves in the log's transaction: when it fails, its entries are not kept either."""
    def fail(customer_ids, at):
        Decision.update(reason="half done").execute()
        raise RuntimeError("figures could not move")

    kept = append([entry(1)])
    monkeypatch.setattr(summary, "note_activity", fail)
    with pytest.raises(RuntimeError):
        append([entry(2)], activity=(["initech"], utcnow()))
    assert ids_in_order() == kept
    with store.connection():
        assert Decision.get_by_id(kept[0]).reason == "test"
    assert authz("log", "verify").exit_code == 0


def test_an_append_inside_a_transaction_is_refused(log):
    """R7.4: a decision is recorded in its own commit; inside a caller's transaction the group
    commit would answer other callers before that transaction commits, so append refuses."""
    with store.connection():
        with pytest.raises(chain.InsideTransaction), database.atomic():
            chain.append([entry(1)])
        assert Decision.select().count() == 0
        chain.append([entry(2)])
    assert len(ids_in_order()) == 1
    assert "ok: 1 entries" in authz("log", "verify").output
