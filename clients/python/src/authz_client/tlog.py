"""Checking the service's decision log without trusting the service (its docs/api.md "The log's
integrity"; RFC 6962 / 9162, C2SP tlog-checkpoint and signed-note).

    checkpoint = open_checkpoint(note, VERIFIER_KEY)   # GET /v1/log/checkpoint's text; the key
                                                       # you were given out of band
    client.prove_inclusion("42", checkpoint)           # raises LogProofError unless proven
    client.prove_consistency(old_checkpoint, checkpoint)

Hashing needs the standard library only; checking a signature needs `cryptography` (the
`verify` extra).
"""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DASH = "\u2014"


class LogProofError(Exception):
    """A checkpoint, key or proof that does not hold: do not trust the log's answer."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the log `origin` had `size` entries and this Merkle `root`."""

    origin: str
    size: int
    root: bytes


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: `proof` places `leaf` at `index` in the tree of `size` leaves with `root`."""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: the tree of `new` leaves extends the tree of `old` leaves."""
    if not 0 < old <= new:
        return old == 0 and not proof
    if old == new:
        return not proof and old_root == new_root
    path = ([old_root] if old & (old - 1) == 0 else []) + list(proof)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def utf8(text: str, what: str) -> bytes:
    """The UTF-8 bytes of a text that came from outside; a lone surrogate (which JSON's
    "\\ud800" escape can carry) is no text that was ever signed: LogProofError, never a crash."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise LogProofError(f"{what} is not valid Unicode text") from None


def _verifier(key: str) -> tuple[str, bytes, bytes]:
    """(name, key hash, Ed25519 public key) of a C2SP verifier key `<name>+<hash hex>+<base64>`."""
    parts = key.strip().split("+", 2)
    try:
        raw = base64.b64decode(parts[2], validate=True) if len(parts) == 3 else b""
    except ValueError:
        raw = b""
    if len(raw) != 33 or raw[:1] != b"\x01":
        raise LogProofError("not an Ed25519 verifier key")
    key_hash = hashlib.sha256(utf8(parts[0], "the verifier key's name") + b"\n" + raw).digest()[:4]
    if key_hash.hex() != parts[1]:
        raise LogProofError("the verifier key's hash does not match its name and key")
    return parts[0], key_hash, raw[1:]


def _signed_by(text: bytes, signature: bytes, public: bytes) -> bool:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as exc:
        raise LogProofError("checking a signature needs `cryptography` (authz-client[verify])") from exc
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, text)
    except InvalidSignature:
        return False
    return True


def open_note(note: str, verifier_key: str) -> str:
    """The text of a C2SP signed note (ending in a newline) once one of its signatures is
    `verifier_key`'s; LogProofError otherwise."""
    name, key_hash, public = _verifier(verifier_key)
    text, sep, signatures = note.rpartition("\n\n")
    body = utf8(text + "\n", "the note")
    good = False
    if not sep or not signatures.endswith("\n"):
        raise LogProofError("not a signed note (text, a blank line, signature lines)")
    for line in signatures[:-1].split("\n"):
        dash, signer, blob = (line.split(" ") + ["", ""])[:3]
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:
            continue
        canonical = base64.b64encode(raw).decode() == blob  # one spelling of a signature only
        if dash == DASH and signer == name and raw[:4] == key_hash and len(raw) == 68 and canonical:
            good = good or _signed_by(body, raw[4:], public)
    if not good:
        raise LogProofError(f"the note is not signed by {name}")
    return text + "\n"


def open_checkpoint(note: str, verifier_key: str) -> Checkpoint:
    """The checkpoint a signed note states, once signed by `verifier_key`; LogProofError otherwise."""
    name = _verifier(verifier_key)[0]
    try:
        lines = open_note(note, verifier_key).split("\n")
    except LogProofError:
        raise LogProofError(f"the checkpoint is not signed by {name}") from None
    if len(lines) < 4 or lines[0] != name or not (lines[1].isascii() and lines[1].isdigit() and len(lines[1]) <= 20):
        raise LogProofError("not a checkpoint of this log")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        root = b""
    if len(root) != 32:
        raise LogProofError("the checkpoint's root is not 32 bytes")
    return Checkpoint(name, int(lines[1]), root)


def hashes(answer: Any, key: str) -> list[bytes]:
    """The hex hashes of a proof answer's `key`, as bytes; LogProofError when not a proof."""
    try:
        return [bytes.fromhex(h) for h in answer[key]]
    except (KeyError, TypeError, ValueError) as exc:
        raise LogProofError("the answer is not a proof") from exc
