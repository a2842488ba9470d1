"""An account's exported activity is checked offline (R7.6, must-hold 2 of issue 19): the file
`authz log export` writes verifies with the client package alone (no server, no database), and
fails when an entry is removed, added or repeated, or any byte of an entry, a proof or the
checkpoint is changed; it still works after `authz log archive`. Both stores."""

import json
import subprocess
import sys

import pytest
from authz_client.export_check import check_export
from authz_client.tlog import LogProofError
from click.testing import CliRunner

from authz_service.cli import main
from tests.support.log_entries import append, entry


@pytest.fixture
def logged(app, database_url, monkeypatch, tmp_path):
    """40 entries, 30 in initech's log (every fourth is globex's), and the log's verifier key."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", str(tmp_path / "keys" / "log-key"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_DIR", str(tmp_path / "witness"))
    other = {"account_id": "globex", "log_account": "globex"}
    append([entry(i, **(other if i % 4 == 3 else {})) for i in range(40)])
    key = CliRunner().invoke(main, ["log", "key"])
    assert key.exit_code == 0, key.output
    return key.output.strip()


def export(tmp_path, *args: str) -> dict:
    out = tmp_path / f"export-{len(list(tmp_path.glob('export-*')))}.json"
    result = CliRunner().invoke(main, ["log", "export", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def fails(data: dict, key: str) -> str:
    with pytest.raises(LogProofError) as caught:
        check_export(json.dumps(data), key)
    return str(caught.value)


def test_the_export_verifies_offline_and_holds_only_the_accounts_entries(logged, tmp_path):
    data = export(tmp_path, "--account", "initech")
    checked = check_export(json.dumps(data), logged)
    assert len(checked.entries) == 30 and checked.checkpoint.size == 40
    assert {e["log_account"] for e in checked.entries} == {"initech"}
    assert [e["leaf_index"] for e in checked.entries] == [i for i in range(40) if i % 4 != 3]
    later = export(tmp_path, "--account", "initech", "--since", "2026-03-01T12:00:20")
    assert len(check_export(json.dumps(later), logged).entries) == 15  # R7.6: 20..39, initech's


def test_the_standalone_checker_and_the_cli_run_the_clients_code_without_the_service(logged, tmp_path):
    export(tmp_path, "--account", "initech")
    path = tmp_path / "export-0.json"
    script = ("import runpy, sys\nsys.argv = ['authz-check-export', sys.argv[1], '--key', sys.argv[2]]\n"
              "try:\n    runpy.run_module('authz_client.export_check', run_name='__main__')\n"
              "except SystemExit as done:\n    assert not [m for m in sys.modules if m.startswith('authz_service')]\n"
              "    raise\n")
    run = subprocess.run([sys.executable, "-c", script, str(path), logged], capture_output=True, text=True)
    assert run.returncode == 0 and "ok: 30 entries of account initech" in run.stdout, run.stderr
    assert CliRunner().invoke(main, ["log", "check-export", str(path), "--key", logged]).exit_code == 0
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "entries": data["entries"][1:]}))
    result = CliRunner().invoke(main, ["log", "check-export", str(path), "--key", logged])
    assert result.exit_code == 1 and "FAILED" in result.output


def test_an_entry_removed_added_or_repeated_fails(logged, tmp_path):
    data = export(tmp_path, "--account", "initech")
    entries = data["entries"]
    for changed in (entries[:5] + entries[6:], entries[:-1], entries[1:]):
        assert "removed or added" in fails({**data, "entries": changed}, logged)
    assert "repeats or reorders" in fails({**data, "entries": entries[:3] + entries[2:]}, logged)
    assert "repeats or reorders" in fails({**data, "entries": [entries[1], entries[0], *entries[2:]]}, logged)
    everything = export(tmp_path, "--account", "globex")["entries"]  # another account's, with good proofs
    assert "not 'initech'" in fails({**data, "entries": sorted(entries + everything[:1],
                                                               key=lambda e: e["leaf_index"])}, logged)
    assert "removed or added" in fails({**data, "since": "2026-03-01T12:00:20.000000",
                                        "entries": entries[15:]}, logged)


def _flips(text: str):
    """The text with each character changed in turn (to the character one bit away)."""
    for i, c in enumerate(text):
        yield text[:i] + chr(ord(c) ^ 1) + text[i + 1:]


def test_any_changed_byte_of_an_entry_a_proof_or_the_checkpoint_fails(logged, tmp_path):
    data = export(tmp_path, "--account", "initech")
    entries, third = data["entries"], data["entries"][2]
    for content in _flips(third["content"]):
        fails({**data, "entries": [*entries[:2], {**third, "content": content}, *entries[3:]]}, logged)
    for n in range(len(third["proof"])):
        for changed in _flips(third["proof"][n]):
            proof = [*third["proof"][:n], changed, *third["proof"][n + 1:]]
            fails({**data, "entries": [*entries[:2], {**third, "proof": proof}, *entries[3:]]}, logged)
    for index in (third["leaf_index"] + 1, third["leaf_index"] - 1):
        fails({**data, "entries": [*entries[:2], {**third, "leaf_index": index}, *entries[3:]]}, logged)
    for name in ("checkpoint", "statement", "account"):
        for changed in _flips(data[name]):
            fails({**data, name: changed}, logged)


def test_the_export_still_verifies_after_archiving(logged, tmp_path):
    archive = CliRunner().invoke(main, ["log", "archive", "--before", "2026-03-01T12:00:13",
                                        "--out", str(tmp_path / "old.jsonl")])
    assert archive.exit_code == 0 and "archived 13 entries" in archive.output, archive.output
    append([entry(40 + i) for i in range(5)])
    checked = check_export(json.dumps(export(tmp_path, "--account", "initech")), logged)
    assert checked.checkpoint.size == 45  # R7.6: the archived leaves still give the root
    assert [e["leaf_index"] for e in checked.entries] == [i for i in range(13, 45) if i % 4 != 3 or i >= 40]


def test_a_hostile_file_is_refused_with_a_reason_never_a_crash(logged, tmp_path):
    data = export(tmp_path, "--account", "initech")
    first = data["entries"][0]
    hostile = [b"", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b"[]", b'{"format": 1}',
               json.dumps({**data, "entries": {"0": first}}).encode(),
               json.dumps({**data, "entries": [{**first, "leaf_index": 10 ** 30}]}).encode(),
               json.dumps({**data, "entries": [{**first, "leaf_index": True}]}).encode(),
               json.dumps({**data, "entries": [{**first, "proof": "ab"}]}).encode(),
               json.dumps({**data, "entries": [{**first, "content": "[" * 100_000}]}).encode(),
               json.dumps({**data, "since": 5}).encode(), json.dumps({**data, "fields": [1]}).encode(),
               json.dumps({**data, "checkpoint": data["statement"]}).encode()]  # a statement is no checkpoint
    for text in hostile:
        with pytest.raises(LogProofError):
            check_export(text, logged)
