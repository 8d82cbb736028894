"""Erasing a private person without rewriting the log (both backends): the name is sealed in the
stored event from the start; after POST /v1/erasures the timeline, its exports, the analysts' read
model and the log's own reads show "[erased]"; the log still verifies and is consistent from the
checkpoint before to the one after; and the name's bytes are in no page of the database files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.proofs.merkle import verify_consistency
from app.proofs.notes import Checkpoint, Verifier
from app.verify import verify_export

NAME = "Wilhelmina Quaterfold"
NEEDLES = [NAME.encode(), b"Wilhelmina", b"Quaterfold", b"wilhelmina", b"quaterfold", b"WILHELMINA"]


def private_assertion(assertion_id: str = "witness") -> dict:
    return {
        "type": "AssertionRecorded",
        "data": {
            "assertion_id": assertion_id,
            "kind": "official_statement",
            "occurred": "2026-01-24",
            "headline": f"A neighbour, {NAME}, says agents fired first",
            "text": f"{NAME} told reporters she saw it from her porch.",
            "attributed_to": NAME,
            "actors": [{"name": NAME, "private": True}, "DHS"],
            "sources": [{"outlet": "FOX 9", "quote": f"“They fired first,” said {NAME}, 41."}],
        },
    }


@pytest.fixture
def admin(keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.create('records-officer', frozenset({'admin', 'write'}))[1]}"}


@pytest.fixture
def named(client, writer, incident) -> str:
    answer = client.post(
        f"/v1/incidents/{incident}/events",
        json={"events": [private_assertion(), {"type": "AssertionRecorded", "data": public_assertion()}]},
        headers=writer,
    )
    assert answer.status_code == 201, answer.text
    return incident


def public_assertion() -> dict:
    return {
        "assertion_id": "dhs-statement",
        "kind": "official_statement",
        "occurred": "2026-01-24",
        "headline": "DHS says the agents acted in self-defence",
        "attributed_to": "DHS",
        "sources": [{"outlet": "CNN", "quote": "acted in self-defence"}],
    }


def everything_a_reader_sees(client, incident: str) -> str:
    reads = [
        client.get(f"/v1/incidents/{incident}/timeline"),
        client.get(f"/v1/incidents/{incident}/timeline", params={"format": "csv"}),
        client.get(f"/v1/incidents/{incident}/timeline", params={"format": "ndjson"}),
        client.get(f"/v1/incidents/{incident}/timeline", params={"format": "timelinejs"}),
        client.get(f"/v1/incidents/{incident}/timeline", params={"history": "true"}),
        client.get("/v1/assertions", params={"incident": incident}),
        client.get("/v1/assertions", params={"incident": incident, "format": "csv"}),
        client.get("/v1/assertions", params={"q": "porch"}),
        client.get("/v1/events", params={"limit": 1000}),
        client.get(f"/v1/incidents/{incident}/events", params={"after_version": 0}),
    ]
    for answer in reads:
        assert answer.status_code == 200, (answer.url, answer.text)
    return "\n".join(answer.text for answer in reads)


def stored_rows(engine) -> str:
    with engine.connect() as conn:
        return json.dumps([list(map(str, row)) for row in conn.execute(sa.text("SELECT data, metadata FROM events"))])


def test_a_private_name_is_sealed_in_the_log_and_read_as_written(client, engine, named):
    assert NAME not in stored_rows(engine) and "Wilhelmina" not in stored_rows(engine)
    entry = next(
        e for e in client.get(f"/v1/incidents/{named}/timeline").json()["entries"] if e["assertion_id"] == "witness"
    )
    assert entry["headline"] == f"A neighbour, {NAME}, says agents fired first"
    assert entry["actors"] == [NAME, "DHS"] and entry["attributed_to"] == NAME
    assert NAME in everything_a_reader_sees(client, named)


def test_after_an_erasure_every_read_shows_erased_and_the_rest_stays(client, app, engine, admin, named):
    before = app.state.log.checkpoint_now()
    answer = client.post(
        "/v1/erasures", json={"name": "wilhelmina  QUATERFOLD", "reason": "GDPR art. 17 request"}, headers=admin
    )
    assert answer.status_code == 201, answer.text
    erased = answer.json()
    assert list(erased["incidents"]) == [named] and len(erased["incidents"][named]) == 1
    seen = everything_a_reader_sees(client, named)
    assert "Wilhelmina" not in seen and "Quaterfold" not in seen and "[erased]" in seen
    entries = {e["assertion_id"]: e for e in client.get(f"/v1/incidents/{named}/timeline").json()["entries"]}
    assert entries["witness"]["headline"] == "A neighbour, [erased], says agents fired first"
    assert entries["witness"]["sources"][0]["quote"] == "“They fired first,” said [erased], 41."
    assert entries["witness"]["actors"] == ["[erased]", "DHS"] and entries["witness"]["attributed_to"] == "[erased]"
    assert entries["dhs-statement"]["headline"] == "DHS says the agents acted in self-defence", "the rest is untouched"
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/v1/incidents/{named}/timeline", params={"format": "csv"}).text))
    )
    assert any(row["headline"] == "A neighbour, [erased], says agents fired first" for row in rows)
    # The erasure is in the log, naming the key, never the person.
    recorded = client.get("/v1/events", params={"after_position": erased["recorded"][named] - 1, "limit": 1}).json()
    (event,) = recorded["events"]
    assert event["type"] == "ErasureRecorded" and event["data"]["key_id"] == erased["key_id"]
    assert (
        event["data"]["reason"] == "GDPR art. 17 request" and event["data"]["positions"] == erased["incidents"][named]
    )

    # The log is the one signed before: consistent from the checkpoint before to the one after.
    after = app.state.log.checkpoint_now()
    assert before is not None and after is not None
    proof = client.get("/v1/log/consistency", params={"from": before.tree_size, "to": after.tree_size}).json()["proof"]
    assert verify_consistency(
        before.tree_size, after.tree_size, before.root_hash, after.root_hash, [bytes.fromhex(p) for p in proof]
    )
    key = client.get("/v1/log/key").text
    for note in (before.note, after.note):
        Checkpoint.parse(Verifier.decode(key.strip()).open(note))


def test_an_export_still_verifies_after_the_erasure(client, app, admin, named, capsys, monkeypatch, database_url):
    from app.cli import main as timeline

    before = app.state.log.checkpoint_now()
    assert client.post("/v1/erasures", json={"name": NAME, "reason": "asked"}, headers=admin).status_code == 201
    after = app.state.log.checkpoint_now()
    monkeypatch.setenv("TIMELINE_DATABASE_URL", database_url)
    capsys.readouterr()
    assert timeline(["export"]) == 0
    exported = capsys.readouterr().out
    assert "Wilhelmina" not in exported, "the export is the log as stored: sealed"
    verdict = verify_export(exported.splitlines(), client.get("/v1/log/key").text, [before.note, after.note])
    assert verdict.verified, verdict.lines()


def test_the_name_is_in_no_page_of_the_database_files(client, app, engine, admin, named, backend, database_url):
    # Read everywhere it is kept before the erasure: snapshots, the assertion index, rendered bodies.
    assert NAME in everything_a_reader_sees(client, named)
    app.state.timelines.snapshots.save(named, 3, {"probe": NAME})  # a snapshot holding it, as a fold would keep
    if backend == "postgres":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("CHECKPOINT"))  # so the pages holding it are in the files, not only in memory
        assert any(NAME.encode() in path.read_bytes() for path in database_files(engine, backend, database_url))
    assert client.post("/v1/erasures", json={"name": NAME, "reason": "asked"}, headers=admin).status_code == 201
    for path in database_files(engine, backend, database_url):
        content = path.read_bytes()
        found = [needle for needle in NEEDLES if needle in content]
        assert not found, f"{found} in {path}"


def database_files(engine, backend: str, database_url: str) -> list[Path]:
    if backend == "sqlite":
        main = Path(engine.url.database)
        return [path for path in (main, Path(f"{main}-wal")) if path.exists()]
    with engine.connect() as conn:
        directory = Path(conn.execute(sa.text("SELECT current_setting('data_directory')")).scalar_one())
        tables = (
            conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i', 't')"
                )
            )
            .scalars()
            .all()
        )
        files = [
            conn.execute(sa.text("SELECT pg_relation_filepath(:t)"), {"t": table}).scalar_one() for table in tables
        ]
    if not directory.exists():
        pytest.skip("the PostgreSQL server's files are on another machine")
    found = []
    for relative in files:
        base = directory / relative
        found += [path for path in base.parent.glob(base.name + "*") if path.is_file()]
    assert found, "the tables' files were found"
    return found


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"name": "Nobody Named", "reason": "asked"}, 404, "no private person of that name"),
        ({"name": "DHS", "reason": "asked"}, 404, "only a name an assertion's actors mark private"),
        ({"name": NAME}, 422, "reason"),
        ({"name": "", "reason": "asked"}, 422, "name"),
    ],
)
def test_a_bad_erasure_is_refused_and_erases_nothing(client, admin, named, body, status, words):
    answer = client.post("/v1/erasures", json=body, headers=admin)
    assert answer.status_code == status and words in answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert NAME in client.get(f"/v1/incidents/{named}/timeline").text


def test_only_an_admin_erases(client, writer, named):
    answer = client.post("/v1/erasures", json={"name": NAME, "reason": "asked"}, headers=writer)
    assert answer.status_code == 403
    assert NAME in client.get(f"/v1/incidents/{named}/timeline").text


def test_nobody_appends_an_erasure_record_by_hand(client, writer, named):
    answer = client.post(
        f"/v1/incidents/{named}/events",
        json={"events": [{"type": "ErasureRecorded", "data": {"key_id": "0" * 32, "reason": "x", "positions": [2]}}]},
        headers=writer,
    )
    assert answer.status_code == 422 and "POST /v1/erasures" in answer.text


REPORT = (
    f"MINNEAPOLIS (FOX 9) — {NAME}, a neighbour, said on Saturday, Jan. 24, that the agents fired first. "
    f"“They fired first,” {NAME} said. The Department of Homeland Security said the agents acted in self-defence."
)


def test_an_editor_marks_a_name_private_when_accepting_and_it_can_be_erased(client, admin, writer, incident, engine):
    posted = client.post(
        "/v1/articles",
        json={
            "outlet": "FOX 9",
            "url": "https://www.fox9.com/neighbour",
            "published_at": "2026-01-25",
            "text": REPORT,
            "incident_id": incident,
        },
        headers=writer,
    )
    assert posted.status_code in (200, 201), posted.text
    article = posted.json()
    mine = next(p for p in article["proposals"] if NAME in json.dumps(p))
    accepted = client.post(
        f"/v1/articles/{article['id']}/proposals/{mine['id']}/accept",
        json={"action": "record", "private": [NAME]},
        headers=writer,
    )
    assert accepted.status_code in (200, 201), accepted.text
    assert NAME in client.get(f"/v1/incidents/{incident}/timeline").text
    assert NAME not in stored_rows(engine), "sealed in the record from the accept on"

    assert client.post("/v1/erasures", json={"name": NAME, "reason": "asked"}, headers=admin).status_code == 201
    entries = client.get(f"/v1/incidents/{incident}/timeline").json()["entries"]
    accepted_entry = next(e for e in entries if "[erased]" in json.dumps(e))
    assert "Wilhelmina" not in json.dumps(entries)
    assert accepted_entry["sources"][0]["outlet"] == "FOX 9", "what was accepted stays, with the name erased"
    assert {"name": "[erased]", "private": True} not in accepted_entry["actors"] and "[erased]" in accepted_entry[
        "actors"
    ]


def test_the_reports_naming_the_person_lose_their_text_and_what_was_accepted_stays(
    client, admin, writer, incident, engine, backend, database_url
):
    report = {
        "outlet": "FOX 9",
        "url": "https://www.fox9.com/neighbour",
        "title": f"Neighbour {NAME} says agents fired first",
        "published_at": "2026-01-25",
        "text": REPORT,
        "incident_id": incident,
    }
    article = client.post("/v1/articles", json=report, headers=writer).json()
    other = client.post(
        "/v1/articles",
        json={
            **report,
            "url": "https://example.org/other",
            "title": "DHS statement",
            "text": "The Department of Homeland Security said on Saturday, Jan. 24, that agents acted in self-defence.",
        },
        headers=writer,
    ).json()
    mine = next(p for p in article["proposals"] if NAME in json.dumps(p))
    accepted = client.post(
        f"/v1/articles/{article['id']}/proposals/{mine['id']}/accept",
        json={"action": "record", "private": [NAME], "headline": f"{NAME} says the agents fired first"},
        headers=writer,
    )
    assert accepted.status_code in (200, 201), accepted.text
    with engine.connect() as conn:
        stored = json.dumps(
            [
                list(map(str, row))
                for table in ("articles", "proposals", "proposal_decisions")
                for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
            ]
        )
    assert "Wilhelmina" not in stored and "Homeland" not in stored, "reports are stored sealed"
    shown = client.get(f"/v1/articles/{article['id']}").json()
    assert shown["text"] == REPORT and shown["title"] == report["title"], "and read as received"

    erased = client.post("/v1/erasures", json={"name": NAME, "reason": "asked"}, headers=admin).json()
    assert erased["reports"] == [article["id"]], "only the report that names her"
    gone = client.get(f"/v1/articles/{article['id']}").json()
    assert "Wilhelmina" not in json.dumps(gone) and gone["text"].startswith("[erased: this report named")
    assert gone["title"] is None and gone["proposals"] == []
    kept = client.get(f"/v1/articles/{other['id']}").json()
    assert kept["text"].startswith("The Department of Homeland Security"), "other reports are untouched"
    entries = client.get(f"/v1/incidents/{incident}/timeline").json()["entries"]
    accepted_entry = next(e for e in entries if "[erased]" in json.dumps(e))
    assert accepted_entry["headline"] == "[erased] says the agents fired first"
    assert accepted_entry["sources"][0]["outlet"] == "FOX 9", "what was accepted stays, with the name erased"
    # The same report posted again is the erased one: its text is not taken in again.
    again = client.post("/v1/articles", json=report, headers=writer)
    assert "Wilhelmina" not in again.text and again.json()["id"] == article["id"]
    for path in database_files(engine, backend, database_url):
        assert not [n for n in NEEDLES if n in path.read_bytes()], path
