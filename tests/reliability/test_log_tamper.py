"""Tamper evidence against someone who can write the database (R7.6): the log is edited with
SQL directly, and `authz log verify --checkpoint` must fail and name what broke, on both stores;
the untouched log passes."""

import os

import pytest
from click.testing import CliRunner

from authz_service import store
from authz_service.cli import main
from authz_service.config import Settings
from authz_service.log import checkpoints, merkle, tree
from authz_service.log.chain import chain_hash
from authz_service.log.signing import Signer
from authz_service.store import decisions
from authz_service.store.entry_form import content
from authz_service.store.models import database
from tests.support.log_entries import append, entry

SIZES = (10, 20, 30)


@pytest.fixture
def signed_log(app, database_url, monkeypatch, tmp_path):
    """30 entries, with a signed checkpoint kept after the 10th, 20th and 30th; the witness folder."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", str(tmp_path / "keys" / "log-key"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_DIR", str(tmp_path / "witness"))
    for batch in range(3):
        append([entry(batch * 10 + i) for i in range(10)])
        with store.connection():
            checkpoints.make(Settings.from_env())
    return tmp_path / "witness"


def verify(witness) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["log", "verify", "--checkpoint", str(witness)])
    return result.exit_code, result.output


def sql(statement: str, *params) -> None:
    with store.connection():
        database.execute_sql(statement.replace("?", database.param), params)


def rows() -> list[dict]:
    with store.connection():
        return list(decisions.walk(0))


def test_the_untouched_log_passes(signed_log):
    assert sorted(os.listdir(signed_log)) == sorted(os.listdir(signed_log))  # three files, never rewritten
    assert len(os.listdir(signed_log)) == 3
    code, out = verify(signed_log)
    assert code == 0, out
    assert "30 entries extend 3 checkpoints" in out


def test_an_edited_field_is_named(signed_log):
    sql('UPDATE "decision" SET "user_email" = ? WHERE "seq" = 15', "mallory@evil.example")
    code, out = verify(signed_log)
    assert code == 1
    assert "entry 15" in out and "does not match its leaf hash" in out
    assert "(size 20): entries 1..20 do not give its root: an entry among 11..20" in out


def test_a_deleted_middle_entry_is_named(signed_log):
    sql('DELETE FROM "decision" WHERE "seq" = 15')
    code, out = verify(signed_log)
    assert code == 1
    assert "entry 16" in out and "expected entry 15" in out
    assert "(size 30): the log holds only 29 entries" in out


def test_deleting_the_newest_entries_is_found(signed_log):
    sql('DELETE FROM "decision" WHERE "seq" > 25')
    code, out = verify(signed_log)
    assert code == 1
    assert "(size 30): the log holds only 25 entries: entries after entry 25 were removed" in out


@pytest.mark.parametrize("move_tree", [False, True])
def test_deleting_the_oldest_entries_and_moving_the_heads_is_found(signed_log, move_tree):
    fifth = rows()[4]
    sql('DELETE FROM "decision" WHERE "seq" <= 5')
    sql('UPDATE "log_head" SET "archived_seq" = 5, "archived_hash" = ? WHERE "id" = 1', fifth["hash"])
    if move_tree:
        sql('UPDATE "log_tree" SET "base" = 5 WHERE "id" = 1')
    code, out = verify(signed_log)
    assert code == 1
    assert ("entries 1..5 are archived" in out) if not move_tree else ("(size 10)" in out and "root" in out)


def test_two_swapped_entries_are_named(signed_log):
    sql('UPDATE "decision" SET "seq" = -1 WHERE "seq" = 12')
    sql('UPDATE "decision" SET "seq" = 12 WHERE "seq" = 13')
    sql('UPDATE "decision" SET "seq" = 13 WHERE "seq" = -1')
    code, out = verify(signed_log)
    assert code == 1
    assert "entry 12" in out and "(size 20): entries 1..20 do not give its root" in out


def test_a_flipped_deny_with_every_hash_and_the_head_recomputed_is_found(signed_log):
    """The attack the hash chain alone cannot see: history rewritten consistently."""
    old = rows()
    denied = next(r for r in old if not r["allowed"] and r["seq"] > 2)
    prev, edge = decisions.GENESIS, merkle.Frontier()
    with store.connection(), database.atomic():
        for row in old:
            if row["seq"] == denied["seq"]:
                row["allowed"] = True
            body = content(row)
            row["prev_hash"], row["hash"] = prev, chain_hash(row["seq"], prev, body)
            leaf = merkle.leaf_hash(body)
            edge.append(leaf)
            database.execute_sql(
                'UPDATE "decision" SET "allowed" = ?, "prev_hash" = ?, "hash" = ?, "leaf_hash" = ? '
                'WHERE "seq" = ?'.replace("?", database.param),
                (row["allowed"], row["prev_hash"], row["hash"], leaf.hex(), row["seq"]))
            prev = row["hash"]
        tree.save(edge)
    assert CliRunner().invoke(main, ["log", "verify"]).exit_code == 0  # the chain alone passes
    code, out = verify(signed_log)
    assert code == 1
    assert "(size 10): entries 1..10 do not give its root: an entry among 1..10" in out
    assert "FAILED: entry" not in out  # every stored hash agrees: only the checkpoints see it


def test_a_checkpoint_replaced_by_one_signed_with_another_key_is_named(signed_log):
    victim = sorted(signed_log.iterdir())[1]
    origin = victim.read_text().split("\n", 1)[0]
    with store.connection():
        size, root = tree.size_and_root()
    victim.write_text(Signer.generate(origin).sign(checkpoints.body(origin, size, root)))
    code, out = verify(signed_log)
    assert code == 1
    assert f"checkpoint {victim}: no valid signature by {origin}+" in out


def test_the_log_still_verifies_after_archiving_with_its_archive(signed_log, tmp_path):
    archive = tmp_path / "old.jsonl"
    done = CliRunner().invoke(main, ["log", "archive", "--before", "2026-03-01T12:00:15", "--out", str(archive)])
    assert done.exit_code == 0 and "archived 15 entries" in done.output, done.output
    code, out = verify(signed_log)  # without the archive, the oldest entries are not there
    assert code == 1 and "entries 1..15 are archived" in out
    result = CliRunner().invoke(main, ["log", "verify", "--checkpoint", str(signed_log), "--archive", str(archive)])
    assert result.exit_code == 0, result.output
    assert "30 entries extend 3 checkpoints" in result.output
    lines = archive.read_text().splitlines()
    archive.write_text("\n".join(lines[:3] + lines[4:]) + "\n")  # an archived entry removed
    result = CliRunner().invoke(main, ["log", "verify", "--checkpoint", str(signed_log), "--archive", str(archive)])
    assert result.exit_code == 1 and "entry 5" in result.output
    for garbage in ("{not json", '{"seq": 4}', "[]"):  # a line that is not an entry: said, never a traceback
        archive.write_text("\n".join(lines[:3] + [garbage] + lines[4:]) + "\n")
        result = CliRunner().invoke(main, ["log", "verify", "--checkpoint", str(signed_log), "--archive", str(archive)])
        assert result.exit_code == 1 and "cannot be read after entry 3" in result.output, (garbage, result.output)
        assert isinstance(result.exception, SystemExit), result.exception


def test_a_checkpoint_of_the_empty_log_is_extended_by_every_log(app, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", str(tmp_path / "log-key"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_DIR", str(tmp_path / "witness"))
    with store.connection():
        checkpoints.make(Settings.from_env())
    append([entry(i) for i in range(3)])
    code, out = verify(tmp_path / "witness")
    assert code == 0, out


def test_a_deletion_names_the_first_entries_and_counts_the_rest(signed_log):
    sql('DELETE FROM "decision" WHERE "seq" = 2')
    code, out = verify(signed_log)
    assert code == 1
    assert out.count("FAILED: entry") <= 20 and "more entries that do not match" in out


def test_each_checkpoint_is_copied_and_the_copy_verifies_alone(app, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", str(tmp_path / "log-key"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_DIR", str(tmp_path / "witness"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_COPIES", os.pathsep.join([str(tmp_path / "elsewhere"),
                                                                   "/proc/cannot-write-here"]))
    for batch in range(2):
        append([entry(batch * 5 + i) for i in range(5)])
        with store.connection():
            checkpoints.make(Settings.from_env())  # a copy that fails never fails the checkpoint
    assert sorted(os.listdir(tmp_path / "elsewhere")) == sorted(os.listdir(tmp_path / "witness"))
    assert len(os.listdir(tmp_path / "elsewhere")) == 2
    sql('DELETE FROM "decision" WHERE "seq" > 7')
    code, out = verify(tmp_path / "elsewhere")
    assert code == 1 and "(size 10): the log holds only 7 entries" in out
