"""`timeline verify`'s offline check (app.verify) on a hand-made log: a checkpoint of the empty log
verifies beside later ones, and one that signs another root for the empty log is refused."""

from __future__ import annotations

import json

from app.proofs.leaves import event_leaf
from app.proofs.merkle import EMPTY_ROOT, root_hash
from app.proofs.notes import Checkpoint, Signer
from app.verify import verify_export

SIGNER = Signer.generate("example.org/log")
EVENTS = [
    {
        "position": n,
        "incident_id": "a-story",
        "version": n,
        "event_id": f"e{n}",
        "type": "Noted",
        "schema_version": 1,
        "data": {"n": n},
        "metadata": {},
        "reported_at": "2026-02-02",
        "recorded_at": "2026-02-02T10:00:00Z",
    }
    for n in (1, 2, 3)
]


def note(size: int, root: bytes) -> str:
    return SIGNER.sign(Checkpoint(SIGNER.name, size, root).text())


def test_a_checkpoint_of_the_empty_log_verifies_beside_later_ones():
    lines = [json.dumps(event) for event in EVENTS]
    leaves = [event_leaf(event) for event in EVENTS]
    notes = [note(0, EMPTY_ROOT), note(1, root_hash(leaves[:1])), note(3, root_hash(leaves))]
    verdict = verify_export(lines, SIGNER.verifier_key, notes)
    assert verdict.verified, verdict.lines()
    assert "the export's first 1 events match the checkpoint at tree size 1" in verdict.checked


def test_a_checkpoint_signing_another_root_for_the_empty_log_is_not_verified():
    verdict = verify_export([], SIGNER.verifier_key, [note(0, b"\x01" * 32)])
    assert not verdict.verified and "empty log" in verdict.problems[0]
