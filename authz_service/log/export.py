"""`authz log export`: an account's activity as a self-contained file a customer checks offline
(R7.6; docs/decisions/034-log-export-and-stream.md; the format: docs/operating.md, "Checking an
exported activity file"). The checker is the client package's (authz_client.export_check), the
one `authz log check-export` runs too; this module only writes.

The file is one JSON object: `format`, `account`, `since`, `fields` (the names of an entry's
values, in the order its bytes hold them), `checkpoint` (a signed note), `entries` (each
`leaf_index`, `content`: the exact bytes the tree hashes, `proof`: hex hashes), and `statement`:
a note signed by the log's key naming the account, the time, the checkpoint, the number of
entries and a digest of their leaf indexes and hashes, so an entry removed or added shows.
"""

import base64
import hashlib
import json
from datetime import datetime
from typing import TextIO

from authz_service.log import checkpoints, merkle, tree
from authz_service.log.signing import Verifier
from authz_service.store import log_reads
from authz_service.store.entry_form import CONTENT, canonical_at, content

FORMAT = "authz-log-export/1"


def statement(origin: str, account: str, since: str | None, size: int, root: bytes, count: int,
              digest: bytes) -> str:
    """The text signed for an export (authz_client.export_check.statement reads the same): its
    first line is not the origin and its second not a number, so it is never a checkpoint."""
    return (f"{origin}/export\n{FORMAT}\naccount {json.dumps(account)}\nsince {json.dumps(since)}\n"
            f"fields {json.dumps(list(CONTENT))}\ncheckpoint {size} {base64.b64encode(root).decode()}\n"
            f"entries {count} {base64.b64encode(digest).decode()}\n")


def write(settings, account: str, since: datetime | None, out: TextIO) -> int:
    """Write the export of `account` (entries at or after `since`) to `out`; how many entries.
    A checkpoint is signed first (as `authz log checkpoint` does): the entries are proven
    against it, so the file holds every entry stored before it."""
    key = checkpoints.signer(settings)
    note = checkpoints.make(settings)
    signed = checkpoints.parse(note, Verifier(key.verifier()))
    when = canonical_at(since) if since is not None else None
    head = {"format": FORMAT, "account": account, "since": when, "fields": list(CONTENT), "checkpoint": note}
    out.write(json.dumps(head)[:-1] + ', "entries": [')
    digest, count = hashlib.sha256(), 0
    for row in log_reads.account_entries(account, since, signed.size):
        index, leaf, proof = tree.inclusion(row["seq"], signed.size)
        body = content(row).decode()
        if merkle.leaf_hash(body.encode()) != leaf:  # fail closed: a file that could never verify
            raise ValueError(f"entry {row['seq']} does not match its leaf hash: run `authz log verify --checkpoint`")
        out.write(("," if count else "") + "\n" + json.dumps(
            {"leaf_index": index, "content": body, "proof": [p.hex() for p in proof]}, ensure_ascii=False))
        digest.update(index.to_bytes(8, "big") + leaf)
        count += 1
    text = statement(key.name, account, when, signed.size, signed.root, count, digest.digest())
    out.write("\n], " + json.dumps({"statement": key.sign(text)})[1:] + "\n")
    return count
