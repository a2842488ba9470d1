"""GET /v1/decisions/{id} and GET /v1/decisions/stream (R7.3, R7.6; docs/decisions/
034-log-export-and-stream.md): a decision's entry with its leaf index, which the client proves
in a signed checkpoint; the stream resumed from its last entry gives every entry once, in log
order, while entries are written; bad input is 4xx in the contract's shape, never 500."""

import json
import threading

import pytest
from authz_client import LogProofError, open_checkpoint
from authz_client.log_proofs import LogProofs

from authz_service.log import checkpoints
from authz_service.store.models import database
from tests.support.auth import bearer
from tests.support.errors import assert_error
from tests.support.log_entries import append, entry
from tests.support.reads import synced_store


@pytest.fixture
def witness(app, tmp_path):
    settings = app.config["AUTHZ"]
    settings.log_key_file, settings.log_witness_dir = str(tmp_path / "log-key"), str(tmp_path / "witness")


class FlaskCalls(LogProofs):
    """The client's log calls, sent to the test app (the transport is tested elsewhere)."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, query=None):
        answer = self.client.open(path, method=method, query_string=query, headers=bearer())
        assert answer.status_code < 300, answer.json
        return answer.status_code, answer.json


def test_a_decisions_entry_has_its_leaf_index_and_the_client_proves_it(client, api, witness):
    ids = [api.authorize("alice@acme.example", "port.view", "initech", resource={"type": "port", "id": f"p{n}"})
           .json["decision_id"] for n in range(3)]
    listed = {e["decision_id"]: e for e in client.get("/v1/decisions", headers=bearer()).json["items"]}
    with synced_store():
        note = checkpoints.make(client.application.config["AUTHZ"])
    key = client.get("/v1/log/key", headers=bearer()).json["verifier_key"]
    calls = FlaskCalls(client)
    for decision_id in ids:
        shown = calls.prove_decision(decision_id, open_checkpoint(note, key))
        assert {k: v for k, v in shown.items() if k != "leaf_index"} == listed[decision_id]  # the activity item
        assert shown["leaf_index"] == int(shown["entry_id"]) - 1
    later = api.authorize("alice@acme.example", "port.view", "initech").json["decision_id"]
    with pytest.raises(LogProofError, match="not in the log of"):  # R7.6: newer than the checkpoint
        calls.prove_decision(later, open_checkpoint(note, key))


def test_an_entry_not_yet_in_the_tree_has_a_null_leaf_index(client, api, witness):
    decision_id = api.authorize("alice@acme.example", "port.view", "initech").json["decision_id"]
    with synced_store():
        database.execute_sql(f'UPDATE "decision" SET "leaf_index" = NULL WHERE "id" = {database.param}',
                             (decision_id,))
    answer = client.get(f"/v1/decisions/{decision_id}", headers=bearer())
    assert answer.status_code == 200 and answer.json["leaf_index"] is None


@pytest.mark.parametrize("decision_id, status", [
    ("0" * 32, 404), ("x" * 65, 404), ("%C3%A9t%C3%A9", 404), ("a%0Ab", 404), ("%F0%9F%98%80" * 40, 404),
    ("%00", 422),  # NUL is refused for every request (docs/decisions/016-hostile-input.md)
])
def test_an_unknown_or_hostile_decision_id_is_refused_in_the_contract_shape(client, api, decision_id, status):
    api.authorize("alice@acme.example", "port.view", "initech")
    assert_error(client.get(f"/v1/decisions/{decision_id}", headers=bearer()), status)


def test_both_need_the_audit_scope(client, keys):
    for path in ("/v1/decisions/abc", "/v1/decisions/stream?after=0"):
        assert_error(client.get(path), 401)
        assert_error(client.get(path, headers=bearer(keys["decide"])), 403)


@pytest.mark.parametrize("query", ["", "after=-1", "after=x", "after=1&limit=0", "after=1&limit=10001",
                                   "after=1&limit=x", "after=" + "9" * 19])
def test_bad_stream_parameters_are_refused_in_the_contract_shape(client, query):
    answer = client.get(f"/v1/decisions/stream?{query}", headers=bearer())
    assert answer.status_code in (400, 422), answer.get_data(as_text=True)
    assert_error(answer, answer.status_code)


def _read(client, after: int, limit: int) -> list[dict]:
    answer = client.get(f"/v1/decisions/stream?after={after}&limit={limit}", headers=bearer())
    assert answer.status_code == 200 and answer.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in answer.get_data(as_text=True).splitlines()]


def test_the_stream_resumed_gives_every_entry_once_in_order_while_entries_are_written(client, app):
    """At-least-once by resuming after the last line's entry_id; here exactly once, in order."""
    writing = threading.Event()

    def writer():
        for batch in range(20):
            append([entry(batch * 10 + i) for i in range(10)])
        writing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen, after = [], 0
    for _ in range(2000):  # bounded: a stream that never catches up fails, never hangs
        done = writing.is_set()  # read once more after the last write, then stop when caught up
        if done:
            with synced_store():  # the spool's last entries stored (the stream never waits for it)
                pass
        lines = _read(client, after, 7)
        seen += lines
        after = int(lines[-1]["entry_id"]) if lines else after
        if done and not lines:
            break
    thread.join()
    with synced_store():
        stored = [r[0] for r in database.execute_sql('SELECT "seq" FROM "decision" ORDER BY "seq"').fetchall()]
    assert [int(e["entry_id"]) for e in seen] == stored and len(stored) == 200
    assert all(e["leaf_index"] == int(e["entry_id"]) - 1 and "decision_id" in e for e in seen)


def test_the_lag_metric_counts_entries_after_the_last_stream_read(client):
    append([entry(i) for i in range(12)])
    with synced_store():  # stored by the writer (the stream never waits for it)
        pass
    assert len(_read(client, 0, 5)) == 5
    assert "authz_log_stream_lag_entries 7.0" in client.get("/metrics").get_data(as_text=True)
    assert len(_read(client, 5, 500)) == 7
    assert "authz_log_stream_lag_entries 0.0" in client.get("/metrics").get_data(as_text=True)
