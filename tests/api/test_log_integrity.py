"""GET /v1/log/checkpoint, /key, /proofs/inclusion and /proofs/consistency (R7.6): the proofs
verify against the signed checkpoint with the served key, and bad input is 422/404, never 500."""

import base64
import dataclasses

import pytest
from authz_client import LogProofError, open_checkpoint
from authz_client.log_proofs import LogProofs

from authz_service.api.log_integrity import ConsistencyOut, InclusionOut
from authz_service.log import checkpoints, merkle
from authz_service.log.checkpoints import parse
from authz_service.log.signing import Signer, Verifier
from tests.support.auth import bearer
from tests.support.reads import synced_store


@pytest.fixture
def witness(app, tmp_path):
    settings = app.config["AUTHZ"]
    settings.log_key_file, settings.log_witness_dir = str(tmp_path / "log-key"), str(tmp_path / "witness")
    return tmp_path / "witness"


def get(client, path):
    return client.get(path, headers=bearer())


def test_proofs_verify_against_the_signed_checkpoint(client, api, witness):
    for n in range(5):
        api.authorize("alice@acme.example", "port.view", "initech", resource={"type": "port", "id": f"p{n}"})
    key = get(client, "/v1/log/key").json
    note = get(client, "/v1/log/checkpoint")
    assert note.status_code == 200 and note.mimetype == "text/plain"
    checkpoint = parse(note.get_data(as_text=True), Verifier(key["verifier_key"]))
    assert checkpoint.origin == key["origin"] and len(list(witness.iterdir())) == 1
    assert base64.b64decode(key["public_key"]) == Verifier(key["verifier_key"]).public
    size = checkpoint.size
    assert size >= 5
    for entry in range(1, size + 1):
        got = get(client, f"/v1/log/proofs/inclusion?entry_id={entry}&size={size}").json
        assert got["leaf_index"] == entry - 1
        assert merkle.verify_inclusion(got["leaf_index"], size, bytes.fromhex(got["leaf_hash"]),
                                       [bytes.fromhex(h) for h in got["proof"]], checkpoint.root)
    for old in range(0, size + 1):
        got = get(client, f"/v1/log/proofs/consistency?from={old}&to={size}").json
        old_root = bytes.fromhex(get(client, f"/v1/log/proofs/inclusion?entry_id=1&size={size}").json["leaf_hash"])
        if old >= 1:  # the old root from the tree of the first `old` leaves, proven from its leaves
            leaves = [bytes.fromhex(get(client, f"/v1/log/proofs/inclusion?entry_id={i}&size={size}")
                                    .json["leaf_hash"]) for i in range(1, old + 1)]
            old_root = merkle.root(leaves)
            assert merkle.verify_consistency(old, size, old_root, checkpoint.root,
                                             [bytes.fromhex(h) for h in got["proof"]])


@pytest.mark.parametrize("query, status", [
    ("/v1/log/proofs/inclusion?entry_id=abc&size=1", 422),
    ("/v1/log/proofs/inclusion?entry_id=1&size=0", 422),
    ("/v1/log/proofs/inclusion?entry_id=1&size=-3", 422),
    ("/v1/log/proofs/inclusion?entry_id=1&size=99999999999999999999999", 422),
    ("/v1/log/proofs/inclusion?entry_id=0&size=1", 422),
    ("/v1/log/proofs/inclusion?size=1", 400),
    ("/v1/log/proofs/inclusion?entry_id=%C2%B2&size=1", 422),
    ("/v1/log/proofs/inclusion?entry_id=1&size=100000", 404),
    ("/v1/log/proofs/inclusion?entry_id=999999999999999999&size=999999999999999999", 404),  # read, then refused
    ("/v1/log/proofs/inclusion?entry_id=999&size=1", 404),
    ("/v1/log/proofs/consistency?from=3&to=1", 422),
    ("/v1/log/proofs/consistency?from=x&to=1", 422),
    ("/v1/log/proofs/consistency?from=1&to=100000", 404),
])
def test_bad_or_out_of_range_parameters_are_refused_in_the_contract_shape(client, api, witness, query, status):
    api.authorize("alice@acme.example", "port.view", "initech")
    answer = get(client, query)
    assert answer.status_code == status, answer.json
    assert set(answer.json) >= {"error"}


def test_the_integrity_endpoints_need_the_audit_scope(client, witness):
    for path in ("/v1/log/checkpoint", "/v1/log/key", "/v1/log/proofs/consistency?from=0&to=0"):
        assert client.get(path).status_code == 401


class FlaskCalls(LogProofs):
    """The client's proof calls, sent to the test app (the transport is tested elsewhere)."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, query=None):
        answer = self.client.open(path, method=method, query_string=query, headers=bearer())
        if answer.status_code >= 300:
            raise AssertionError(answer.json)
        return answer.status_code, answer.json


def test_the_client_checks_the_signed_checkpoint_and_both_proofs_offline(client, api, witness):
    for n in range(3):
        api.authorize("alice@acme.example", "port.view", "initech", resource={"type": "port", "id": f"p{n}"})
    key = get(client, "/v1/log/key").json["verifier_key"]
    older = open_checkpoint(get(client, "/v1/log/checkpoint").get_data(as_text=True), key)
    for n in range(4):
        api.authorize("alice@acme.example", "port.view", "initech", resource={"type": "port", "id": f"q{n}"})
    with synced_store():  # the writer has stored the four (R7.4)
        newer_note = checkpoints.make(client.application.config["AUTHZ"])
    newer = open_checkpoint(newer_note, key)
    calls = FlaskCalls(client)
    assert newer.size > older.size
    for entry in range(1, newer.size + 1):
        calls.prove_inclusion(str(entry), newer)
    calls.prove_consistency(older, newer)
    with pytest.raises(LogProofError):  # a root that is not the signed one
        calls.prove_inclusion("1", dataclasses.replace(newer, root=bytes(32)))
    with pytest.raises(LogProofError):
        calls.prove_consistency(dataclasses.replace(older, root=bytes(32)), newer)
    lines = newer_note.split("\n")
    lines[1] = str(newer.size + 1)  # a size the signature does not cover
    with pytest.raises(LogProofError):
        open_checkpoint("\n".join(lines), key)
    other = Signer.generate(newer.origin)
    with pytest.raises(LogProofError):
        open_checkpoint(other.sign(checkpoints.body(newer.origin, newer.size, newer.root)), key)


def test_a_key_file_others_can_read_is_503_not_500(client, witness, tmp_path):
    assert get(client, "/v1/log/key").status_code == 200
    (tmp_path / "log-key").chmod(0o644)
    for path in ("/v1/log/key", "/v1/log/checkpoint"):
        answer = get(client, path)
        assert answer.status_code == 503 and answer.json["error"]["code"] == "unavailable", answer.json


def test_proof_answers_are_what_their_schemas_document(client, api, witness):
    """The proof views build their JSON themselves (no schema dump, issue 19): the same fields
    and values as InclusionOut and ConsistencyOut send, so clients and exports read them as before."""
    for n in range(3):
        api.authorize("alice@acme.example", "port.view", "initech", resource={"type": "port", "id": f"p{n}"})
    got = get(client, "/v1/log/proofs/inclusion?entry_id=2&size=3").json
    assert got == InclusionOut().dump(got) and set(got) == {"entry_id", "leaf_index", "tree_size", "leaf_hash", "proof"}
    assert isinstance(got["entry_id"], str) and got["tree_size"] == 3 and len(got["proof"]) == 2
    got = get(client, "/v1/log/proofs/consistency?from=1&to=3").json
    assert got == ConsistencyOut().dump({"old": got.get("from"), "new": got.get("to"), "proof": got.get("proof")})
    assert (got["from"], got["to"]) == (1, 3)
