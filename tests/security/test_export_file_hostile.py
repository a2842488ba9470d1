"""A hostile export file or key fed to the offline checker (R7.6; docs/operating.md "Checking an
exported activity file"): whatever the file holds, `check_export` answers with the checked export
or LogProofError, never another exception, and `authz-check-export` exits 1 with "FAILED: ..."
on stderr, never a traceback. Fail closed: a file the checks did not foresee is not a checked one.
"""

import json

import pytest
from authz_client.export_check import check_export, main
from authz_client.tlog import LogProofError, open_checkpoint
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authz_service.cli import main as cli
from tests.support.log_entries import append, entry

TEXT = st.text(st.characters(blacklist_categories=()))  # lone surrogates included
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3), max_leaves=8)
HOSTILE_TEXT = ["\ud800", "a\udfffb", "\x00", "\u202e", "x" * 10_000, "=1+1", "../../etc/passwd"]


@pytest.fixture
def exported(app, database_url, monkeypatch, tmp_path):
    """A real export of initech's 6 entries (R7.6) and the log's verifier key."""
    monkeypatch.setenv("AUTHZ_DATABASE_URL", database_url)
    monkeypatch.setenv("AUTHZ_LOG_KEY_FILE", str(tmp_path / "keys" / "log-key"))
    monkeypatch.setenv("AUTHZ_LOG_WITNESS_DIR", str(tmp_path / "witness"))
    append([entry(i) for i in range(6)])
    key = CliRunner().invoke(cli, ["log", "key"])
    assert key.exit_code == 0, key.output
    out = tmp_path / "export.json"
    made = CliRunner().invoke(cli, ["log", "export", "--out", str(out), "--account", "initech"])
    assert made.exit_code == 0, made.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(check_export(json.dumps(data), key.output.strip()).entries) == 6
    return data, key.output.strip()


def refused(text: str | bytes, key: str) -> str:
    with pytest.raises(LogProofError) as caught:
        check_export(text, key)
    return str(caught.value)


def test_lone_surrogates_anywhere_are_refused_as_invalid(exported):
    """A JSON "\\ud800" escape (valid JSON, not text) in the checkpoint, the statement, an entry's
    content or the key: LogProofError, not UnicodeEncodeError."""
    data, key = exported
    first = data["entries"][0]
    for bad in HOSTILE_TEXT:
        for changed in ({**data, "checkpoint": bad + data["checkpoint"]},
                        {**data, "statement": data["statement"].replace("\n", bad + "\n", 1)},
                        {**data, "account": bad}, {**data, "since": bad}, {**data, "fields": [bad]},
                        {**data, "entries": [{**first, "content": first["content"][:-1] + json.dumps(bad) + "]"}]},
                        {**data, "entries": [{**first, "content": bad}]},
                        {**data, "entries": [{**first, "proof": [bad]}]}):
            refused(json.dumps(changed), key)
    for bad_key in ("\ud800" + key, key + "\ud800", key.replace("+", "\ud800+", 1), "x" * 10_000):
        refused(json.dumps(data), bad_key)
        with pytest.raises(LogProofError):
            open_checkpoint(data["checkpoint"], bad_key)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(where=st.sampled_from(["format", "account", "since", "fields", "checkpoint", "statement", "entries",
                              "entry", "leaf_index", "content", "proof"]), value=JSON)
def test_any_json_value_in_any_field_is_refused_cleanly(exported, where, value):
    """Property: the real export with any one field (top level or of an entry) replaced by any
    JSON value is either still the same valid export or refused with LogProofError."""
    data, key = exported
    first = data["entries"][0]
    if where == "entry":
        changed = {**data, "entries": [value, *data["entries"][1:]]}
    elif where in first:
        changed = {**data, "entries": [{**first, where: value}, *data["entries"][1:]]}
    else:
        changed = {**data, where: value}
    try:
        check_export(json.dumps(changed), key)
    except LogProofError:
        return
    assert changed == data  # only the unchanged file verifies


def test_the_command_says_failed_never_a_traceback(exported, tmp_path, capsys):
    """authz-check-export with a hostile file or a key no file can be named: exit 1, one line."""
    data, key = exported
    path, bad_key_file = tmp_path / "hostile.json", tmp_path / "key-not-utf8"
    path.write_text(json.dumps({**data, "checkpoint": "\ud800" + data["checkpoint"]}, ensure_ascii=True))
    bad_key_file.write_bytes(b"\xff\xfe\x00")
    for argv in ([str(path), "--key", key], [str(path), "--key", "k" * 5000],
                 [str(path), "--key", str(bad_key_file)]):
        assert main(argv) == 1
        assert capsys.readouterr().err.startswith("FAILED: ")


def test_an_account_no_log_can_hold_is_a_usage_error_and_writes_nothing(exported, tmp_path):
    """`authz log export --account` with NUL, a lone surrogate, nothing or 10 kB: exit 2 naming
    the option (not a database error, not an empty export signed for it), and no file (R7.6)."""
    for n, account in enumerate(["a\x00b", "\ud800", "", "x" * 10_000]):
        out = tmp_path / f"hostile-{n}.json"
        result = CliRunner().invoke(cli, ["log", "export", "--account", account, "--out", str(out)])
        assert result.exit_code == 2 and "not an account id" in result.output, (account[:9], result.output)
        assert not out.exists()
