"""Signed checkpoints (app.proofs.notes): C2SP signed notes with Ed25519, checked against Go's
golang.org/x/mod/sumdb/note example (Ed25519 is deterministic, so our signature of its text with its
key must be its signature, byte for byte) and against an independent reading of the C2SP rules
written here, in the test, from the specification; C2SP tlog-checkpoint bodies; the key file."""

from __future__ import annotations

import base64
import hashlib
import os
import stat

import hypothesis.strategies as st
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given

from app.proofs.keyfile import load_or_create_signer
from app.proofs.merkle import leaf_hash, root_hash
from app.proofs.notes import Checkpoint, NoteError, Signer, Verifier

# golang.org/x/mod/sumdb/note: the package documentation's example.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def independently_opened(note: str, verifier_key: str) -> str:
    """The C2SP signed-note rules, read from the specification apart from the code under test: the
    text runs to the last blank line; each signature line is an em dash, a space, the key name, a
    space and base64 of the 4-byte key ID and the signature; the key ID is SHA-256(name || 0x0A ||
    0x01 || public key)[:4]; an Ed25519 signature is over the text bytes."""
    name, key_id_hex, key_b64 = verifier_key.split("+", 2)
    key = base64.b64decode(key_b64)
    assert key[0] == 1 and len(key) == 33, "an Ed25519 verifier key"
    key_id = hashlib.sha256(name.encode("utf-8") + b"\x0a" + key).digest()[:4]
    assert key_id.hex() == key_id_hex
    cut = note.rindex("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :]
    assert lines.endswith("\n")
    for line in lines.splitlines():
        assert line.startswith("\u2014 ")
        signer_name, blob = line[2:].split(" ")
        raw = base64.b64decode(blob, validate=True)
        if signer_name == name and raw[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[4:], text.encode("utf-8"))
            return text
    raise AssertionError("no signature by that key")


def test_our_signature_of_go_s_example_is_go_s_signature():
    signer = Signer.decode(GO_SIGNER)
    assert signer.verifier_key == GO_VERIFIER
    assert signer.sign(GO_TEXT) == GO_NOTE
    assert Verifier.decode(GO_VERIFIER).open(GO_NOTE) == GO_TEXT
    assert Signer.decode(signer.encode()).encode() == signer.encode() == GO_SIGNER


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=40),
        min_size=1,
        max_size=5,
    )
)
def test_notes_we_sign_open_with_the_independent_reading_and_ours(lines):
    signer = Signer.generate("timeline.example/log")
    text = "".join(line + "\n" for line in lines if line) or "one line\n"
    note = signer.sign(text)
    assert independently_opened(note, signer.verifier_key) == text
    assert Verifier.decode(signer.verifier_key).open(note) == text


def test_a_text_that_is_not_utf8_is_not_signed():
    with pytest.raises(NoteError, match="UTF-8"):
        Signer.generate("timeline.example/log").sign("a lone \ud800 surrogate\n")


def test_a_changed_byte_or_another_key_does_not_open():
    verifier = Verifier.decode(GO_VERIFIER)
    with pytest.raises(NoteError, match="does not verify"):
        verifier.open(GO_NOTE.replace("cryptography", "cryptographY"))
    with pytest.raises(InvalidSignature):
        independently_opened(GO_NOTE.replace("problem,", "problem;"), GO_VERIFIER)
    other = Signer.generate("PeterNeumann")
    with pytest.raises(NoteError, match="no signature"):
        Verifier.decode(other.verifier_key).open(GO_NOTE)
    for broken in ("", GO_TEXT, GO_NOTE.replace("\u2014", "-"), GO_NOTE.rstrip("\n")):
        with pytest.raises(NoteError):
            verifier.open(broken)


def test_malformed_keys_are_refused():
    for key in ("", "PeterNeumann+c74f20a3", GO_VERIFIER.replace("c74f20a3", "c74f20a4"), "a b+00000000+AA=="):
        with pytest.raises(NoteError):
            Verifier.decode(key)
    with pytest.raises(NoteError):
        Signer.decode(GO_VERIFIER)


def test_a_checkpoint_is_origin_size_and_root_and_signs_as_a_note():
    leaves = [leaf_hash(bytes([n])) for n in range(5)]
    checkpoint = Checkpoint("timeline.example/log", 5, root_hash(leaves))
    text = checkpoint.text()
    assert text == f"timeline.example/log\n5\n{base64.b64encode(root_hash(leaves)).decode()}\n"
    assert Checkpoint.parse(text) == checkpoint
    signer = Signer.generate("timeline.example/log")
    assert Checkpoint.parse(independently_opened(signer.sign(text), signer.verifier_key)) == checkpoint
    for bad in (
        "timeline.example/log\n05\nAAAA\n",
        "timeline.example/log\n5\n",
        "o\n-1\n" + text.split("\n")[2] + "\n",
    ):
        with pytest.raises(NoteError):
            Checkpoint.parse(bad)


def test_the_key_file_is_made_once_for_its_owner_alone(tmp_path):
    path = tmp_path / "keys" / "log.key"
    made = load_or_create_signer(path, "timeline.example/log")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_or_create_signer(path, "timeline.example/log")
    assert again.verifier_key == made.verifier_key
    with pytest.raises(NoteError, match="signs as"):
        load_or_create_signer(path, "another.example/log")
