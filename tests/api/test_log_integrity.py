"""GET /v1/log/checkpoint, /key, /proofs/inclusion and /proofs/consistency (R7.6): the proofs
verify against the signed checkpoint with the served key, and bad input is 422/404, never 500."""

import base64

import pytest

from authz_service.log import merkle
from authz_service.log.checkpoints import parse
from authz_service.log.signing import Verifier
from tests.conftest import bearer


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
