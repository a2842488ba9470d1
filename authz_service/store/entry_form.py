"""A decision log entry's canonical bytes: what the hash chain and the Merkle tree hash (R7.4,
R7.6; docs/decisions/003-decision-log.md, 030-signed-checkpoints.md).

Here, beside the table, because migration 7 computes the leaves of entries stored before
the tree existed; log/chain.py and log/merkle.py use the same bytes.
"""

import hashlib
import json
import operator
from json import encoder

# The R7.1 fields in the order they are hashed (the table's own column order starts the same).
CONTENT = ("id", "at", "user_email", "account_id", "log_account", "action", "resource_type",
           "resource_id", "allowed", "group", "rule", "reason", "session_id", "caller",
           "on_behalf_of_partner")
_AT, _ALLOWED = CONTENT.index("at"), CONTENT.index("allowed")
_CONTENT_OF = operator.itemgetter(*CONTENT)  # an entry's CONTENT values, in order, in one call
# R9.7: what the policy decided from and which policy decided (migration 8). Hashed only when
# recorded, so an entry without them encodes exactly as before and old leaves keep verifying.
FACTS = ("facts", "policy_version")


def canonical_at(value) -> str:
    """A time as the log hashes it: naive UTC, ISO 8601 with microseconds. The last time's text is
    kept: a batch's entries share one time (decide_each), and each would format it again."""
    if isinstance(value, str):
        return value
    last = _last_at
    if last[0] is value:
        return last[1]
    text = value.isoformat(timespec="microseconds")
    globals()["_last_at"] = (value, text)  # one tuple: a thread never reads half of it
    return text


_last_at: tuple = (None, "")


def _not_json(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps(value, separators=(",", ":"), ensure_ascii=False): the C encoder json.JSONEncoder.encode
# makes at each call, made once (a content is flat: no check for cycles), ~1 µs an entry less
_MAKE = getattr(encoder, "c_make_encoder", None)  # None where json has no C speedups
_C_ENCODER = _MAKE and _MAKE(None, _not_json, encoder.encode_basestring, None, ":", ",", False, False, True)
_PY_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _compact(value) -> str:
    return "".join(_C_ENCODER(value, 0)) if _C_ENCODER else _PY_ENCODER(value)


def content(entry: dict) -> bytes:
    """The entry's R7.1 fields: a JSON array in CONTENT order, then `true` when a value was
    altered to be storable (log/values.py; absent otherwise). An entry with its R9.7 facts ends
    with `altered` (true or false), the facts and the policy version: 18 values, a length no
    older entry has, so clearing or adding the facts of a stored entry breaks its hash."""
    fields = list(_CONTENT_OF(entry))
    fields[_AT], fields[_ALLOWED] = canonical_at(fields[_AT]), bool(fields[_ALLOWED])
    if entry.get("facts") is not None or entry.get("policy_version") is not None:
        fields += [bool(entry.get("altered")), entry.get("facts"), entry.get("policy_version")]
    elif entry.get("altered"):
        fields.append(True)
    return encoded(fields)


def encoded(fields) -> bytes:
    """A content's bytes from its values: the log writer re-encodes what a spool record carries
    (log/spool.py) into the same bytes as the worker hashed-to-be (tests/unit/test_spool_form.py);
    the spool's line encodes its activity with it too (one compact encoder for both)."""
    return _compact(fields).encode()


def leaf_hex(body: bytes) -> str:
    """RFC 6962's leaf hash of an entry's bytes, SHA-256(0x00 || bytes), in hex (log/merkle.py's leaf_hash)."""
    return hashlib.sha256(b"\x00" + body).hexdigest()
