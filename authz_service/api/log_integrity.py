"""The log's integrity (R7.6; scope audit; docs/api.md "The log's integrity"): the newest signed
checkpoint, the key that signs them, inclusion and consistency proofs (RFC 6962)."""

import base64

import marshmallow as ma
from flask import Response, current_app, jsonify
from flask.views import MethodView

from authz_service.api.base import Blueprint, invalid
from authz_service.api.errors import ApiError
from authz_service.log import chain, checkpoints, tree
from authz_service.log.signing import NoteError
from authz_service.store import NotFound

F = ma.fields
blp = Blueprint("log_integrity", __name__, scope="audit", url_prefix="/v1/log",
                description="The log's integrity (scope audit)")


class Count(F.Field):
    """A whole number from `low` up in a query (at most 18 digits); anything else is 422."""

    def __init__(self, low: int, **kwargs):
        super().__init__(required=True, **kwargs)
        self.low = low

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not (value.isascii() and value.isdigit()) or len(value) > 18 or int(value) < self.low:
            raise invalid(f"a whole number from {self.low} up (at most 18 digits)")
        return int(value)


class InclusionQuery(ma.Schema):
    entry_id = Count(1)
    size = Count(1)


class ConsistencyQuery(ma.Schema):
    old = Count(0, data_key="from")
    new = Count(0, data_key="to")


class InclusionOut(ma.Schema):  # documents the answer, built as it is sent (no dump: R7.6, issue 19)
    entry_id = F.String()
    leaf_index = F.Integer()
    tree_size = F.Integer()
    leaf_hash = F.String(metadata={"description": "hex, SHA-256(0x00 || entry bytes)"})
    proof = F.List(F.String(), metadata={"description": "hex node hashes, RFC 6962 PATH order"})


class ConsistencyOut(ma.Schema):
    old = F.Integer(data_key="from")
    new = F.Integer(data_key="to")
    proof = F.List(F.String(), metadata={"description": "hex node hashes, RFC 6962 PROOF order"})


def _settings():
    return current_app.config["AUTHZ"]


def _no_key(exc: Exception) -> ApiError:
    """The key, the witness folder or the tree's state cannot be used: 503, never a 500 (fail closed)."""
    current_app.logger.error("the log's checkpoint key or witness folder: %s", exc)
    return ApiError(503, "unavailable", "the log's checkpoints cannot be read now")


@blp.route("/checkpoint")
class Checkpoint(MethodView):
    @blp.response(200, content_type="text/plain")
    def get(self):
        """The newest signed checkpoint (C2SP signed note: origin, size, base64 root hash, signature)."""
        chain.sync()
        try:
            found = checkpoints.newest(_settings())
            note = found[1] if found is not None else checkpoints.make(_settings())  # none kept yet: sign one
        except (OSError, NoteError, ValueError) as exc:  # ValueError: a tree state edited by hand
            raise _no_key(exc) from exc
        return Response(note, mimetype="text/plain")


@blp.route("/key")
class Key(MethodView):
    @blp.response(200)
    def get(self):
        """The key checkpoints are signed with: its verifier key (C2SP signed-note) and raw public key."""
        try:
            signer = checkpoints.signer(_settings())
        except (OSError, NoteError) as exc:
            raise _no_key(exc) from exc
        return {"origin": signer.name, "algorithm": "Ed25519", "verifier_key": signer.verifier(),
                "public_key": base64.b64encode(signer.public).decode()}


@blp.route("/proofs/inclusion")
class Inclusion(MethodView):
    @blp.arguments(InclusionQuery, location="query")
    @blp.response(200, InclusionOut)
    def get(self, query):
        """Entry `entry_id` is leaf `leaf_index` of the tree of `size` leaves: the proof."""
        chain.sync()
        try:
            index, leaf, proof = tree.inclusion(query["entry_id"], query["size"])
        except (ValueError, tree.MissingLeaves) as exc:
            raise NotFound("entry in a tree of that size", str(query["entry_id"])) from exc
        return jsonify({"entry_id": str(query["entry_id"]), "leaf_index": index, "tree_size": query["size"],
                        "leaf_hash": leaf.hex(), "proof": [h.hex() for h in proof]})  # InclusionOut, as built


@blp.route("/proofs/consistency")
class Consistency(MethodView):
    @blp.arguments(ConsistencyQuery, location="query")
    @blp.response(200, ConsistencyOut)
    def get(self, query):
        """The tree of `to` leaves extends the tree of `from` leaves: the proof."""
        if query["old"] > query["new"]:
            raise ApiError(422, "invalid", "`from` is larger than `to`", fields={"from": ["larger than to"]})
        chain.sync()
        try:
            proof = tree.consistency(query["old"], query["new"])
        except (ValueError, tree.MissingLeaves) as exc:
            raise NotFound("tree size", str(query["new"])) from exc
        return jsonify({"from": query["old"], "to": query["new"], "proof": [h.hex() for h in proof]})  # ConsistencyOut
