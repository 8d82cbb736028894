"""Crypto-shredding of a private person's name in an event's data. Pure: no I/O; the keys are given.

An assertion's `actors` may name a private person as `{"name": "...", "private": true}`. Before the
event is stored, that name, and every text field of the same event that contains it, is sealed:
replaced by

    {"sealed": "aes-256-gcm", "key": <key id>, "nonce": <base64>, "ciphertext": <base64>,
     "redacted": <the text with each occurrence of the name replaced by [erased]>}

encrypted (AES-256-GCM, `cryptography`) under that person's own key, with the key id and the
field's place in the event as associated data, so a sealed value cannot be moved to another field or
event unnoticed. The log stores (and its Merkle leaf hashes) the sealed form; it is opened when it is
read. Destroying the person's key (an erasure) leaves every sealed value unreadable for good: it
opens as its `redacted` text, "[erased]" where the name was, and the log's hashes are unchanged.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALGORITHM = "aes-256-gcm"
ERASED = "[erased]"
KEY_BYTES = 32
NONCE_BYTES = 12

Place = tuple[str | int, ...]
KeyFor = Callable[[str], tuple[str, bytes]]  # a private name -> (its key id, its key)
KeyLookup = Callable[[str], bytes | None]  # a key id -> its key, or None once destroyed


class SealingError(ValueError):
    pass


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * KEY_BYTES)


def private_names(data: Mapping[str, Any]) -> list[str]:
    """The names the event's `actors` mark private, longest first (so a longer name is redacted
    before a shorter one it contains)."""
    names = {
        actor["name"].strip()
        for actor in data.get("actors") or ()
        if isinstance(actor, Mapping) and actor.get("private") is True and isinstance(actor.get("name"), str)
    }
    return sorted((n for n in names if n), key=lambda n: (-len(n), n))


def is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("sealed") == ALGORITHM


def seal_data(data: Mapping[str, Any], key_for: KeyFor, *, event_id: str) -> dict[str, Any]:
    """The event's data with each private name, and every text containing one, sealed."""
    names = private_names(data)
    if not names:
        return dict(data)
    pattern = _names_pattern(names)

    def walk(value: Any, place: Place) -> Any:
        if isinstance(value, str):
            found = [name for name in names if re.search(_name_pattern(name), value, re.IGNORECASE)]
            if not found:
                return value
            # A text naming several private persons is sealed under each one's key in turn (the
            # outermost seal lists them all): any one of their erasures makes it unreadable.
            redacted = pattern.sub(ERASED, value)
            sealed: Any = value
            key_ids = []
            for name in found:
                key_id, key = key_for(name)
                key_ids.append(key_id)
                sealed = _seal(sealed, key_id, key, _context(event_id, place), redacted)
            return {**sealed, "keys": key_ids}
        if isinstance(value, Mapping):
            return {key: walk(item, (*place, key)) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item, (*place, index)) for index, item in enumerate(value)]
        return value

    return walk(dict(data), ())


def open_data(data: Mapping[str, Any], lookup: KeyLookup, *, event_id: str) -> dict[str, Any]:
    """The event's data with every sealed value opened: its text while its key exists, else its
    redacted text."""

    def walk(value: Any, place: Place) -> Any:
        if is_sealed(value):
            return open_value(value, lookup, _context(event_id, place))
        if isinstance(value, Mapping):
            return {key: walk(item, (*place, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*place, index)) for index, item in enumerate(value)]
        return value

    return walk(dict(data), ())


def sealed_key_ids(data: Any) -> set[str]:
    """The key ids every sealed value in `data` was sealed under (its nested seals included)."""
    if is_sealed(data):
        return {str(data["key"]), *(str(key) for key in data.get("keys") or ())}
    if isinstance(data, Mapping):
        return set().union(*(sealed_key_ids(item) for item in data.values()))
    if isinstance(data, list):
        return set().union(*(sealed_key_ids(item) for item in data))
    return set()


def open_value(value: Mapping[str, Any], lookup: KeyLookup, context: bytes) -> str:
    key = lookup(str(value["key"]))
    if key is None:
        return str(value.get("redacted", ERASED))
    try:
        inner = AESGCM(key).decrypt(_b64(value["nonce"]), _b64(value["ciphertext"]), _aad(value["key"], context))
    except (InvalidTag, KeyError, ValueError):
        raise SealingError("a sealed value does not open with its key: it was changed or moved") from None
    kind, _, body = inner.partition(b":")
    if kind == b"sealed":  # sealed again under another person's key
        return open_value(json.loads(body), lookup, context)
    return body.decode()


def seal_json(value: Any, key: bytes, context: str) -> dict[str, Any]:
    """Any JSON value sealed whole under `key` (a stored report's text, its proposals, its decisions)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plaintext = json.dumps(value, separators=(",", ":")).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return {
        "sealed": ALGORITHM,
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }


def open_json(sealed: Mapping[str, Any], key: bytes, context: str) -> Any:
    try:
        plaintext = AESGCM(key).decrypt(_b64(sealed["nonce"]), _b64(sealed["ciphertext"]), context.encode())
    except (InvalidTag, KeyError, ValueError):
        raise SealingError("a sealed value does not open with its key: it was changed or moved") from None
    return json.loads(plaintext)


def names_in(text: str, names: Sequence[str]) -> bool:
    return _names_pattern(names).search(text) is not None


def _seal(value: Any, key_id: str, key: bytes, context: bytes, redacted: str) -> dict[str, Any]:
    if isinstance(value, str):
        plaintext = b"text:" + value.encode()
    else:
        plaintext = b"sealed:" + json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(key_id, context))
    return {
        "sealed": ALGORITHM,
        "key": key_id,
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "redacted": redacted,
    }


def _context(event_id: str, place: Place) -> bytes:
    return (event_id + "/" + "/".join(str(part) for part in place)).encode()


def _aad(key_id: Any, context: bytes) -> bytes:
    return str(key_id).encode() + b"\n" + context


def _name_pattern(name: str) -> str:
    # The name as a whole word run, its spaces matching any run of spaces (a line break in a quote).
    return r"(?<!\w)" + r"\s+".join(re.escape(part) for part in name.split()) + r"(?!\w)"


def _names_pattern(names: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(_name_pattern(name) for name in names), re.IGNORECASE)


def _b64(text: Any) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except ValueError:
        raise SealingError("a sealed value's nonce or ciphertext is not base64") from None
