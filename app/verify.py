"""`timeline verify`: check the log against its signed checkpoints, with nothing but what anyone can
hold — an export, checkpoint notes and the verifier key — or by watching a live service.

Offline, the export's events are hashed as the log hashes them (app.proofs.leaves) into the tree
of RFC 9162, and its root compared, at each checkpoint's size, with the root the checkpoint signs.
The first position that does not match is named:
- a position missing or out of order in the export names itself;
- where the export carries the leaf hashes the log recorded as it appended (`leaf_hash`), and those
  hashes are the ones the checkpoint signed, the first event whose own hash differs from its
  recorded one is the first changed event;
- otherwise the checkpoints bracket it: the first one whose root fails, after the last that holds.

Watching (`--url`), each new checkpoint's signature is checked and its consistency proof from the
last checkpoint verified (kept in a state file), so a log that rewrote anything it had signed is
caught the next time it is asked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.proofs import merkle
from app.proofs.leaves import event_leaf
from app.proofs.notes import Checkpoint, NoteError, Verifier


class VerifyError(Exception):
    """The inputs cannot be checked at all (a bad key, a note it did not sign, a malformed line)."""


@dataclass
class Verdict:
    verified: bool
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    first_bad_position: int | None = None

    def lines(self) -> list[str]:
        return [*self.checked, *self.problems]


def open_checkpoints(key_text: str, notes: Iterable[str]) -> tuple[Verifier, list[Checkpoint]]:
    try:
        verifier = Verifier.decode(key_text.strip())
    except NoteError as error:
        raise VerifyError(f"the verifier key cannot be read: {error}") from None
    opened = []
    for note in notes:
        try:
            # A note saved by hand or by a tool may gain blank lines at its end; its signed text cannot.
            checkpoint = Checkpoint.parse(verifier.open(note.rstrip("\n") + "\n"))
        except NoteError as error:
            raise VerifyError(f"a checkpoint does not verify with the key of {verifier.name}: {error}") from None
        if checkpoint.origin != verifier.name:
            raise VerifyError(f"a checkpoint is of the log {checkpoint.origin!r}, not {verifier.name!r}")
        opened.append(checkpoint)
    if not opened:
        raise VerifyError("give at least one checkpoint to verify against")
    return verifier, sorted(opened, key=lambda c: c.size)


def verify_export(lines: Iterable[bytes | str], key_text: str, notes: Iterable[str]) -> Verdict:
    _, checkpoints = open_checkpoints(key_text, notes)
    largest = checkpoints[-1].size
    verdict = Verdict(verified=False)
    if any(c.size == 0 and c.root != merkle.EMPTY_ROOT for c in checkpoints):
        verdict.problems.append("a checkpoint of the empty log signs a root other than the empty tree's")
        return verdict
    checkpoints = [c for c in checkpoints if c.size > 0]  # the empty tree needs no event to check
    edge: list[bytes] = []
    recorded_edge: list[bytes] | None = []  # over the export's recorded leaf hashes, while it has them
    size = 0
    pending = list(checkpoints)
    last_good = 0
    bracket: tuple[int, int] | None = None
    first_recorded_mismatch: int | None = None
    recorded_authentic = False

    for number, raw in enumerate(lines, start=1):
        if size >= largest:
            break
        if not raw.strip():
            continue
        try:
            record: dict[str, Any] = json.loads(raw)
            position = record["position"]
            leaf = event_leaf(record)
        except (ValueError, KeyError, TypeError) as error:
            raise VerifyError(f"line {number} of the export is not an event as `timeline export` writes it: {error}")
        if position != size + 1:
            verdict.first_bad_position = size + 1
            verdict.problems.append(
                f"position {size + 1}: not in the export (line {number} holds position {position}): "
                "an event was deleted or moved"
            )
            break
        recorded = record.get("leaf_hash")
        if recorded_edge is not None and isinstance(recorded, str) and len(recorded) == 64:
            recorded_leaf = bytes.fromhex(recorded)
            if recorded_leaf != leaf and first_recorded_mismatch is None:
                first_recorded_mismatch = position
            recorded_edge, _ = merkle.extend(recorded_edge, size, [recorded_leaf])
        else:
            recorded_edge = None
        edge, _ = merkle.extend(edge, size, [leaf])
        size += 1
        while pending and pending[0].size == size:
            checkpoint = pending.pop(0)
            if merkle.frontier_root(edge) == checkpoint.root:
                last_good = size
                verdict.checked.append(f"the export's first {size} events match the checkpoint at tree size {size}")
            else:
                if bracket is None:
                    bracket = (last_good, size)
                if recorded_edge is not None and merkle.frontier_root(recorded_edge) == checkpoint.root:
                    recorded_authentic = True

    if not checkpoints:
        verdict.checked.append("verified: the empty log, signature good")
        verdict.verified = True
        return verdict
    if verdict.first_bad_position is None and size < largest:
        verdict.first_bad_position = size + 1
        verdict.problems.append(
            f"position {size + 1}: the export ends after {size} events, but the checkpoint covers {largest}"
        )
    if verdict.first_bad_position is None and bracket is not None:
        low, high = bracket
        if first_recorded_mismatch is not None and (recorded_authentic or low < first_recorded_mismatch <= high):
            verdict.first_bad_position = first_recorded_mismatch
            verdict.problems.append(
                f"position {first_recorded_mismatch}: the event is not the one the log recorded and signed "
                f"(its hash differs from the leaf hash the log kept); the checkpoint at {high} does not match"
            )
        elif high - low == 1:
            verdict.first_bad_position = high
            verdict.problems.append(f"position {high}: the event is not the one the checkpoint at {high} signed")
        else:
            verdict.first_bad_position = low + 1
            verdict.problems.append(
                f"position {low + 1}: the first that may differ — the export matches the checkpoint at {low} "
                f"but not the one at {high}, so an event in {low + 1}..{high} is not the one signed "
                + (
                    "(the log's own record of its leaf hashes was rewritten with them"
                    if recorded_edge is not None
                    else "(the export carries no leaf hashes to tell which"
                )
                + "; an earlier checkpoint narrows it)"
            )
    verdict.verified = verdict.first_bad_position is None
    if verdict.verified:
        verdict.checked.append(f"verified: {size} events, {len(checkpoints)} checkpoint(s), signatures good")
    return verdict


@dataclass(frozen=True)
class Seen:
    """What a monitor keeps between runs: the key it trusts and the last checkpoint it verified."""

    key: str
    size: int
    root: bytes

    def dumps(self) -> str:
        return json.dumps({"key": self.key, "tree_size": self.size, "root_hash": self.root.hex()}) + "\n"

    @classmethod
    def loads(cls, text: str) -> Seen:
        data = json.loads(text)
        return cls(data["key"], int(data["tree_size"]), bytes.fromhex(data["root_hash"]))


def check_new_checkpoint(
    key_text: str, note: str, seen: Seen | None, proof_hex: list[str] | None
) -> tuple[Verdict, Seen | None]:
    """A monitor's step: the new checkpoint's signature, and that it extends the last one verified
    (`proof_hex`: the consistency proof from seen.size to the new size, as the service gives it)."""
    _, (checkpoint,) = open_checkpoints(key_text, [note])
    verdict = Verdict(verified=False)
    if seen is None:
        verdict.verified = True
        verdict.checked.append(f"checkpoint at tree size {checkpoint.size}: signature good (the first one seen)")
        return verdict, Seen(key_text.strip(), checkpoint.size, checkpoint.root)
    if checkpoint.size < seen.size:
        verdict.first_bad_position = checkpoint.size + 1
        verdict.problems.append(
            f"the log shrank: its checkpoint is at tree size {checkpoint.size}, after one at {seen.size} was verified"
        )
        return verdict, None
    proof = [bytes.fromhex(node) for node in proof_hex or []]
    if not merkle.verify_consistency(seen.size, checkpoint.size, seen.root, checkpoint.root, proof):
        verdict.problems.append(
            f"the checkpoint at tree size {checkpoint.size} is not consistent with the one at {seen.size} "
            f"verified before: the log's first {seen.size} events were rewritten"
        )
        return verdict, None
    verdict.verified = True
    verdict.checked.append(
        f"checkpoint at tree size {checkpoint.size}: signature good, consistent with the one at {seen.size}"
    )
    return verdict, Seen(seen.key, checkpoint.size, checkpoint.root)
