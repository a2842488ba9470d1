"""Checking an account's exported activity offline: no server, no database, only this package
and the log's verifier key (given out of band). `authz log export` writes the file; its format is
in the service's docs/operating.md ("Checking an exported activity file").

    python -m authz_client.export_check FILE --key VERIFIER_KEY     # or `authz-check-export`

    export = check_export(open(FILE, "rb").read(), VERIFIER_KEY)  # raises LogProofError if not
    for entry in export.entries: ...                                 # dicts, by field name

What holds once it returns: the checkpoint is signed by the key; every entry's bytes are at
its leaf index in the tree that checkpoint signs (RFC 9162 inclusion proofs); and the list of
entries is exactly the one the service signed as this account's since `since` (the signed
statement): an entry removed, added, repeated or changed in the file fails the check.
"""

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authz_client.tlog import (
    Checkpoint,
    LogProofError,
    open_checkpoint,
    open_note,
    verify_inclusion,
)

FORMAT = "authz-log-export/1"


@dataclass(frozen=True)
class Export:
    """A checked export: the account, the time it starts at, the checkpoint, the entries."""

    account: str
    since: str | None
    checkpoint: Checkpoint
    entries: list[dict[str, Any]]


def statement(origin: str, account: str, since: str | None, fields: Sequence[str], size: int,
              root: bytes, count: int, digest: bytes) -> str:
    """The text the service signs for an export. Its first line is not the log's origin and
    its second is not a number, so it can never be read as a checkpoint."""
    return (f"{origin}/export\n{FORMAT}\naccount {json.dumps(account)}\nsince {json.dumps(since)}\n"
            f"fields {json.dumps(list(fields))}\ncheckpoint {size} {base64.b64encode(root).decode()}\n"
            f"entries {count} {base64.b64encode(digest).decode()}\n")


def leaf_of(content: str) -> bytes:
    """RFC 6962's leaf hash of an entry's bytes (its `content`, UTF-8)."""
    return hashlib.sha256(b"\x00" + content.encode()).digest()


def entry_digest(leaves: Sequence[tuple[int, bytes]]) -> bytes:
    """SHA-256 over each entry's leaf index (8 bytes, big-endian) and leaf hash, in file order."""
    digest = hashlib.sha256()
    for index, leaf in leaves:
        digest.update(index.to_bytes(8, "big") + leaf)
    return digest.digest()


def _field(data: Any, name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise LogProofError(f"not an export file: `{name}` is missing or of the wrong type")
    return value


def _entry(n: int, raw: Any, checkpoint: Checkpoint, fields: list[str]) -> tuple[int, bytes, dict[str, Any]]:
    """(leaf index, leaf hash, the entry by field name) of the file's entry number n, once proven."""
    index, content = _field(raw, "leaf_index", int), _field(raw, "content", str)
    try:
        hexes = _field(raw, "proof", list)
        proof = [bytes.fromhex(h) for h in hexes]
        values = json.loads(content)
    except (TypeError, ValueError, RecursionError) as exc:
        raise LogProofError(f"entry {n}: its proof or its content cannot be read") from exc
    if [p.hex() for p in proof] != hexes:  # one spelling of a hash only (lowercase hex)
        raise LogProofError(f"entry {n}: its proof is not lowercase hex")
    leaf = leaf_of(content)
    if not verify_inclusion(index, checkpoint.size, leaf, proof, checkpoint.root):
        raise LogProofError(f"entry {n} (leaf {index}) is not proven to be in the log of "
                            f"{checkpoint.size} entries: its content or its proof was changed")
    if not isinstance(values, list) or len(values) < len(fields):
        raise LogProofError(f"entry {n} (leaf {index}) does not hold the file's fields")
    return index, leaf, {**dict(zip(fields, values, strict=False)), "leaf_index": index}


def check_export(text: str | bytes, verifier_key: str) -> Export:
    """The export, once every check holds; LogProofError naming the first that does not.
    Whatever the file holds, the answer is that or LogProofError, never another exception
    (fail closed: a file the checks did not foresee is not a checked one)."""
    try:
        data = json.loads(text)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate anywhere: not UTF-8 text
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        raise LogProofError("not an export file: not JSON text (UTF-8, no lone surrogates)") from exc
    try:
        return _checked(data, verifier_key)
    except (ValueError, TypeError, OverflowError, RecursionError, KeyError, AttributeError) as exc:
        raise LogProofError(f"not an export file: {type(exc).__name__} reading it") from exc


def _checked(data: Any, verifier_key: str) -> Export:
    if _field(data, "format", str) != FORMAT:
        raise LogProofError(f"not an export file of format {FORMAT}")
    account, fields = _field(data, "account", str), _field(data, "fields", list)
    since = data.get("since")
    if since is not None and not isinstance(since, str) or not all(isinstance(f, str) for f in fields):
        raise LogProofError("not an export file: `since` or `fields` is of the wrong type")
    checkpoint = open_checkpoint(_field(data, "checkpoint", str), verifier_key)
    leaves, entries, last = [], [], -1
    for n, raw in enumerate(_field(data, "entries", list), 1):
        index, leaf, entry = _entry(n, raw, checkpoint, fields)
        if index <= last:
            raise LogProofError(f"entry {n} (leaf {index}) repeats or reorders an entry")
        _belongs(n, entry, account, since)
        leaves.append((index, leaf))
        entries.append(entry)
        last = index
    signed = open_note(_field(data, "statement", str), verifier_key)
    if signed != statement(checkpoint.origin, account, since, fields, checkpoint.size, checkpoint.root,
                           len(leaves), entry_digest(leaves)):
        raise LogProofError("the entries are not those the service signed for this export: "
                            "an entry was removed or added, or the account, time or checkpoint changed")
    return Export(account, since, checkpoint, entries)


def _belongs(n: int, entry: dict[str, Any], account: str, since: str | None) -> None:
    """An entry of another account's log, or older than `since`, is not this export's."""
    if "log_account" in entry and entry["log_account"] != account:
        raise LogProofError(f"entry {n} is in the log of account {entry['log_account']!r}, not {account!r}")
    if since is not None and isinstance(entry.get("at"), str) and entry["at"] < since:
        raise LogProofError(f"entry {n} was recorded at {entry['at']}, before {since}")


def _key(given: str) -> str:
    """The verifier key given, or the content of the file it names."""
    if "+" not in given and Path(given).is_file():
        return Path(given).read_text(encoding="utf-8").strip()
    return given


def main(argv: Sequence[str] | None = None) -> int:
    """`authz-check-export FILE --key KEY`: 0 and a summary when the file holds, 1 naming what broke."""
    parser = argparse.ArgumentParser(prog="authz-check-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="the file `authz log export` wrote")
    parser.add_argument("--key", required=True, help="the log's verifier key, or a file holding it")
    args = parser.parse_args(argv)
    try:
        export = check_export(args.file.read_bytes(), _key(args.key))
    except (OSError, UnicodeError, LogProofError) as exc:  # a name too long, a key file not UTF-8: said, no traceback
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {len(export.entries)} entries of account {export.account} since {export.since or 'the start'}, "
          f"proven in the log of {export.checkpoint.size} entries signed by {export.checkpoint.origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
