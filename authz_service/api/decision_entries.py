"""One decision's log entry and the log as a stream, for auditors and a SIEM (R7.3, R7.6; scope
audit; docs/decisions/034-log-export-and-stream.md).

`GET /v1/decisions/{id}` → the entry as the activity items show it, plus `leaf_index` (null
until the entry is in the tree), so the caller can fetch its inclusion proof.
`GET /v1/decisions/stream?after=ENTRY_ID&limit=` → NDJSON, one entry a line, in log order:
resume with the last line's `entry_id`. Plain reads by the entry number's index: never the
chain's lock, never a wait for the writer, so streaming never slows decisions.
"""

import json

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from authz_service import metrics
from authz_service.api.base import Blueprint, in_range
from authz_service.api.log_integrity import Count
from authz_service.api.log_schemas import EntryOut
from authz_service.log import audit, chain
from authz_service.store import NotFound, log_reads

F = ma.fields
blp = Blueprint("decision_entries", __name__, scope="audit", url_prefix="/v1",
                description="Decision log entries (scope audit)")
MAX_STREAM = 10_000


class LoggedEntryOut(EntryOut):
    leaf_index = F.Integer(allow_none=True, metadata={
        "description": "the entry's leaf in the log's Merkle tree (GET /v1/log/proofs/inclusion); "
                       "null until it is in the tree"})


class StreamQuery(ma.Schema):
    after = Count(0, metadata={"description": "an entry_id: the entries after it (0: from the first)"})
    limit = F.Integer(load_default=1000, validate=in_range(1, MAX_STREAM))


_ENTRY = LoggedEntryOut()


def _shown(row: dict) -> dict:
    return _ENTRY.dump({**audit.item(row), "leaf_index": row["leaf_index"]})


@blp.route("/decisions/stream")
class Stream(MethodView):
    @blp.arguments(StreamQuery, location="query")
    @blp.response(200, content_type="application/x-ndjson")
    def get(self, query):
        """Up to `limit` entries after entry `after`, oldest first, one JSON object a line
        (the items of GET /v1/decisions, with `leaf_index`); none when the caller is up to date."""
        rows = log_reads.after(query["after"], query["limit"])
        seen = rows[-1]["seq"] if rows else query["after"]
        metrics.LOG_STREAM_LAG.set(max(0, log_reads.newest_seq() - seen))
        body = "".join(json.dumps(_shown(row), ensure_ascii=False) + "\n" for row in rows)
        return Response(body, mimetype="application/x-ndjson")


@blp.route("/decisions/<decision_id>")
class Entry(MethodView):
    @blp.response(200, LoggedEntryOut)
    def get(self, decision_id):
        """The decision's log entry (by the `decision_id` POST /v1/authorize answered), with its
        leaf index; 404 when no stored entry has that id (or it was archived)."""
        row = None
        if len(decision_id) <= 64 and decision_id.isascii() and decision_id.isprintable():
            chain.sync()  # the entry may still be in this host's spool
            row = log_reads.by_id(decision_id)
        if row is None:
            raise NotFound("decision", decision_id)
        return {**audit.item(row), "leaf_index": row["leaf_index"]}
