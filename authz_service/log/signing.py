"""Ed25519 signed notes, as C2SP signed-note defines them (R7.6; docs/decisions/030-signed-checkpoints.md).

A note is UTF-8 text ending in a newline; a signed note is the text, a blank line, then one line
per signature: U+2014, a space, the key's name, a space, base64(key hash (4 bytes) || signature).
The key hash is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key); 0x01 names
Ed25519. Keys are written as Go's golang.org/x/mod/sumdb/note writes them:
`PRIVATE+KEY+<name>+<hash hex>+<base64(0x01 || seed)>`, and the verifier key
`<name>+<hash hex>+<base64(0x01 || public key)>`, so the same files work with its tools.
"""

import base64
import hashlib
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(Exception):
    """A key or a note that cannot be read, or a note without a good signature of the key asked."""


def _key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"a key name has no spaces or '+': {name!r}")
    return name


class Signer:
    """A named Ed25519 signing key."""

    def __init__(self, name: str, seed: bytes):
        self.name, self.key = _check_name(name), Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.hash = _key_hash(name, self.public)

    @classmethod
    def generate(cls, name: str) -> "Signer":
        """A new random key under this name."""
        return cls(name, os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> "Signer":
        """A key as `encode` writes it."""
        parts = text.strip().split("+", 4)  # base64 may hold "+": the key is the rest
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("not a signing key (PRIVATE+KEY+<name>+<hash>+<key>)")
        raw = base64.b64decode(parts[4], validate=True)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("not an Ed25519 signing key")
        signer = cls(parts[2], raw[1:])
        if signer.hash.hex() != parts[3]:
            raise NoteError("the signing key's hash does not match its name and key")
        return signer

    def encode(self) -> str:
        """The key as a line of text (secret)."""
        seed = self.key.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.hash.hex()}+{base64.b64encode(ED25519 + seed).decode()}\n"

    def verifier(self) -> str:
        """The public verifier key: `<name>+<hash hex>+<base64(0x01 || public key)>`."""
        return f"{self.name}+{self.hash.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    def sign(self, text: str) -> str:
        """The note `text` signed by this key."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        signature = self.key.sign(text.encode())
        return f"{text}\n{DASH} {self.name} {base64.b64encode(self.hash + signature).decode()}\n"


class Verifier:
    """A named Ed25519 public key, read from its verifier key."""

    def __init__(self, text: str):
        parts = text.strip().split("+", 2)
        try:
            raw = base64.b64decode(parts[2], validate=True) if len(parts) == 3 else b""
        except ValueError:
            raw = b""
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("not an Ed25519 verifier key (<name>+<hash>+<key>)")
        self.name, self.public = _check_name(parts[0]), raw[1:]
        self.hash = _key_hash(self.name, self.public)
        if self.hash.hex() != parts[1]:
            raise NoteError("the verifier key's hash does not match its name and key")
        self.key = Ed25519PublicKey.from_public_bytes(self.public)

    def open(self, note: str) -> str:
        """The note's text when one of its signatures is this key's; NoteError otherwise."""
        text, sep, signatures = note.rpartition("\n\n")
        if not sep or not signatures.endswith("\n"):
            raise NoteError("not a signed note (text, a blank line, signature lines)")
        text += "\n"
        for line in signatures[:-1].split("\n"):
            dash, name, blob = (line.split(" ") + ["", ""])[:3]
            if dash != DASH or name != self.name:
                continue
            try:
                raw = base64.b64decode(blob, validate=True)
                if raw[:4] == self.hash and len(raw) == 68:
                    self.key.verify(raw[4:], text.encode())
                    return text
            except (ValueError, InvalidSignature):
                continue
        raise NoteError(f"no valid signature by {self.name}+{self.hash.hex()}")
