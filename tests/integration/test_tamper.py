"""Whoever holds the database can drop its triggers and change what it says; `timeline verify` must
then fail and name the first position that does not match — with nothing but an export, the
checkpoint notes and the verifier key. Each way of tampering on both backends; an untouched store
verifies. Run as a user runs them: `timeline export`, then `timeline verify` (in process)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.cli import main as timeline
from app.proofs.notes import Signer
from app.store import EventStore, NewEvent
from app.store.tree import Checkpoints, LogTree

NAME = "newsroom.example/log"
# What a tamperer drops first: the triggers that refuse UPDATE and DELETE (migrations 0001, 0010).
TRIGGERS = {
    "sqlite": ["events_refuse_update", "events_refuse_delete", "merkle_nodes_refuse_delete"],
    "postgres": ["events_refuse_update_delete ON events", "merkle_nodes_refuse_update_delete ON merkle_nodes"],
}


def quote(n: int) -> NewEvent:
    return NewEvent(
        "Noted", {"n": n, "quote": f"Statement {n}: “the officers acted as trained”"}, metadata={"actor": "desk"}
    )


@pytest.fixture
def log(store, tmp_path, monkeypatch, database_url):
    """Eight appends (one a batch of five), a checkpoint after each, and the files a verifier holds."""
    monkeypatch.setenv("TIMELINE_DATABASE_URL", database_url)
    signer = Signer.generate(NAME)
    checkpoints = Checkpoints(store.engine, LogTree(store.engine), signer)
    notes = []
    for n in range(8):
        store.append(f"incident-{n % 3}", [quote(10 * n + k) for k in range(5 if n == 4 else 1)])
        issued = checkpoints.issue()
        assert issued is not None
        note = tmp_path / f"checkpoint-{issued.tree_size}.txt"
        note.write_text(issued.note)
        notes.append(note)
    key = tmp_path / "log.pub"
    key.write_text(signer.verifier_key + "\n")
    return {"notes": notes, "key": key, "dir": tmp_path}


def export(log, capsys) -> Path:
    capsys.readouterr()
    assert timeline(["export"]) == 0
    path = log["dir"] / "export.ndjson"
    path.write_text(capsys.readouterr().out)
    return path


def verify(log, capsys, *, every_checkpoint: bool = False) -> tuple[int, str]:
    path = export(log, capsys)
    notes = log["notes"] if every_checkpoint else log["notes"][-1:]
    args = ["verify", "--export", str(path), "--key", str(log["key"])]
    for note in notes:
        args += ["--checkpoint", str(note)]
    code = timeline(args)
    return code, capsys.readouterr().out


def tamper(store, backend: str, *statements: str) -> None:
    with store.engine.begin() as conn:
        for trigger in TRIGGERS[backend]:
            conn.execute(sa.text(f"DROP TRIGGER {trigger}"))
        for statement in statements:
            conn.execute(sa.text(statement))


def named(output: str) -> int:
    found = re.search(r"NOT VERIFIED: position (\d+)", output)
    assert found, output
    return int(found.group(1))


def test_an_untouched_store_verifies(log, capsys):
    code, output = verify(log, capsys)
    assert code == 0, output
    assert "verified: 12 events, 1 checkpoint(s), signatures good" in output
    code, output = verify(log, capsys, every_checkpoint=True)
    assert code == 0 and "8 checkpoint(s)" in output


def quote_edit(backend: str, position: int) -> str:
    if backend == "sqlite":
        return f"UPDATE events SET data = replace(data, 'as trained', 'in panic') WHERE position = {position}"
    return f"UPDATE events SET data = replace(data::text, 'as trained', 'in panic')::json WHERE position = {position}"


def test_an_edited_quote_is_named(log, capsys, store, backend):
    tamper(store, backend, quote_edit(backend, 7))
    code, output = verify(log, capsys)
    assert code == 1 and named(output) == 7, output


def test_a_deleted_event_is_named(log, capsys, store, backend):
    tamper(store, backend, "DELETE FROM events WHERE position = 5")
    code, output = verify(log, capsys)
    assert code == 1 and named(output) == 5, output
    assert "an event was deleted or moved" in output


def test_two_events_swapped_are_named(log, capsys, store, backend):
    tamper(
        store,
        backend,
        "UPDATE events SET position = -position WHERE position IN (3, 9)",
        "UPDATE events SET position = 9 WHERE position = -3",
        "UPDATE events SET position = 3 WHERE position = -9",
    )
    code, output = verify(log, capsys)
    assert code == 1 and named(output) == 3, output


def test_a_replaced_tail_is_named(log, capsys, store, backend):
    tamper(store, backend, "DELETE FROM events WHERE position >= 10")
    # New events where the old ones were: other words, the same positions.
    EventStore(store.engine).append("incident-0", [quote(900 + k) for k in range(3)])
    code, output = verify(log, capsys)
    assert code == 1 and named(output) == 10, output


def test_a_tail_replaced_with_its_hashes_rewritten_too_is_caught_and_narrowed_by_the_checkpoints(
    log, capsys, store, backend
):
    # The careful tamperer: edits an event and rebuilds the whole tree to match. Only the signed
    # checkpoints, which no one can make without the key, still say what the log was.
    tamper(store, backend, quote_edit(backend, 11), "DELETE FROM merkle_nodes")
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE log_head SET tree_size = 0, frontier = :empty"), {"empty": b""})
    assert LogTree(store.engine).catch_up() == 12
    code, output = verify(log, capsys)
    assert code == 1 and "NOT VERIFIED" in output, output
    assert named(output) <= 11
    code, output = verify(log, capsys, every_checkpoint=True)
    assert code == 1 and named(output) == 11, output


def test_an_export_that_is_not_the_logs_says_what_it_is(log, capsys, tmp_path):
    path = export(log, capsys)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], "not json", *lines[3:]]) + "\n")
    code = timeline(["verify", "--export", str(path), "--key", str(log["key"]), "--checkpoint", str(log["notes"][-1])])
    assert code == 2 and "line 4 of the export is not an event" in capsys.readouterr().err
    other = tmp_path / "other.pub"
    other.write_text(Signer.generate(NAME).verifier_key)
    code = timeline(["verify", "--export", str(path), "--key", str(other), "--checkpoint", str(log["notes"][-1])])
    assert code == 2 and "does not verify with the key" in capsys.readouterr().err
    assert timeline(["verify", "--export", str(path)]) == 2
    assert "give --export FILE, --checkpoint FILE and --key FILE" in capsys.readouterr().err
    assert json.loads(lines[0])["leaf_hash"]
