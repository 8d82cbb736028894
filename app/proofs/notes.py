"""Signed checkpoints: C2SP `tlog-checkpoint` bodies in C2SP `signed-note`s, signed with Ed25519
(the `cryptography` package), the format Go's checksum database and Sigstore's logs use, so their
verifiers read ours.

- A checkpoint's text is three lines: the log's origin, its tree size in decimal, and the root hash
  in standard base64, each ending in a newline.
- A signed note is that text, a blank line, and one signature line per signer:
  `— <key name> <base64(key hash ‖ signature)>` (an em dash, U+2014). The key hash is the first
  four bytes of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key); the signature is Ed25519's over the
  text alone.
- The verifier key, published for anyone to check notes with, is
  `<key name>+<key hash in 8 hex digits>+<base64(0x01 ‖ public key)>`; the signer key, kept in a
  file outside the database, is `PRIVATE+KEY+<key name>+<key hash>+<base64(0x01 ‖ private seed)>`.

Pure: the signer key file is read and made in app.proofs.keyfile. Written here because no
maintained Python package implements C2SP notes; the cryptography is the `cryptography` package's.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ED25519 = b"\x01"  # the signature algorithm byte of C2SP's key encodings
DASH = "\u2014"


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify (the message says which)."""


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"a key name is non-empty and has no spaces or '+': {name!r}")


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier_key(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{key_hash(self.name, self.public_key).hex()}+{encoded}"

    def encode(self) -> str:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        encoded = base64.b64encode(ED25519 + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{key_hash(self.name, self.public_key).hex()}+{encoded}"

    @classmethod
    def decode(cls, text: str) -> Signer:
        parts = text.strip().split("+", 4)  # the base64 of the key may itself hold a '+'
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+<name>+<hash>+<key>")
        name, hash_hex, encoded = parts[2:]
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(_ed25519(name, encoded, "the signer key")))
        _check_hash(name, signer.public_key, hash_hex, "the signer key")
        return signer

    def sign(self, text: str) -> str:
        """The signed note of `text` (which must end in a newline)."""
        _check_text(text)
        signature = self.private_key.sign(text.encode())
        line = base64.b64encode(key_hash(self.name, self.public_key) + signature).decode()
        return f"{text}\n{DASH} {self.name} {line}\n"


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: bytes

    @classmethod
    def decode(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)  # the base64 of the key may itself hold a '+'
        if len(parts) != 3:
            raise NoteError("a verifier key is <name>+<hash>+<key>")
        name, hash_hex, encoded = parts
        public_key = _ed25519(name, encoded, "the verifier key")
        _check_hash(name, public_key, hash_hex, "the verifier key")
        return cls(name, public_key)

    def open(self, note: str) -> str:
        """The text of a note this key signed; NoteError if it did not (or the note is malformed)."""
        text, _, signatures = note.rpartition("\n\n")
        if not text or not signatures.endswith("\n"):
            raise NoteError("a signed note is its text, a blank line and its signature lines")
        text += "\n"
        _check_text(text)
        wanted = key_hash(self.name, self.public_key)
        for line in signatures[:-1].split("\n"):
            dash, _, rest = line.partition(" ")
            name, _, encoded = rest.partition(" ")
            if dash != DASH or not name or not encoded:
                raise NoteError(f"not a signature line: {line!r}")
            raw = _b64(encoded, "a signature")
            if name != self.name or raw[:4] != wanted:
                continue  # another signer's signature
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(raw[4:], text.encode())
            except InvalidSignature:
                raise NoteError(f"the signature of {self.name} does not verify") from None
            return text
        raise NoteError(f"the note carries no signature of {self.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is the origin, the tree size and the root hash, a line each")
        origin, size, root = lines[0], lines[1], lines[2]
        if not origin or not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("a checkpoint's second line is its tree size in decimal")
        decoded = _b64(root, "the root hash")
        if len(decoded) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(origin, int(size), decoded)


def _ed25519(name: str, encoded: str, what: str) -> bytes:
    """The 32 key bytes of a C2SP key encoding (the algorithm byte 0x01, then the key)."""
    _check_name(name)
    raw = _b64(encoded, what)
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError(f"{what} is not an Ed25519 key")
    return raw[1:]


def _check_hash(name: str, public_key: bytes, hash_hex: str, what: str) -> None:
    if key_hash(name, public_key).hex() != hash_hex:
        raise NoteError(f"{what}'s hash does not match its key")


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in a newline and has no blank line")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("a note's text is UTF-8: it cannot hold a lone surrogate") from None


def _b64(encoded: str, what: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        raise NoteError(f"{what} is not base64") from None
