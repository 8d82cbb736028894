"""The import: the handlers' checks for every line, every problem with its line, identity by content, conflicts never copied.

Each test runs on SQLite and PostgreSQL (the `engine` fixture), through app.importing as the CLI
calls it; tests/e2e/test_cli.py runs the command itself.
"""

from __future__ import annotations

import io
import itertools
import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import importing
from app.api.serialize import envelope
from app.commands import EventCommand, append_events, open_incident
from app.db import create_engine
from app.importing import ImportError_, ImportStopped, Progress, content_id, import_batches, import_file, read_ndjson
from app.store import EventStore
from tests.conftest import fresh_database_url
from tests.support.examples import examples

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "minneapolis-2026.ndjson"


# -- lines --------------------------------------------------------------------------------------


def opened(incident: str, title: str = "An incident", **extra) -> dict:
    return {"incident_id": incident, "type": "IncidentOpened", "data": {"title": title}, **extra}


def recorded(incident: str, assertion_id: str, headline: str = "Something happened", **extra) -> dict:
    data = {
        "assertion_id": assertion_id,
        "kind": "other",
        "occurred": "2026-01-24",
        "headline": headline,
        "sources": [{"outlet": "CNN", "published_at": "2026-02-02"}],
    }
    return {"incident_id": incident, "type": "AssertionRecorded", "data": data, "reported_at": "2026-02-02", **extra}


def attached(incident: str, assertion_id: str, outlet: str, **extra) -> dict:
    return {
        "incident_id": incident,
        "type": "SourceAttached",
        "data": {"assertion_id": assertion_id, "source": {"outlet": outlet}},
        **extra,
    }


def ranked(incident: str, assertion_id: str, rank: str = "preferred", **extra) -> dict:
    return {
        "incident_id": incident,
        "type": "AssertionRanked",
        "data": {"assertion_id": assertion_id, "rank": rank},
        **extra,
    }


def story(incident: str, assertions: int = 3) -> list[dict]:
    """A valid stream: opened, then assertions with a corroboration and a rank each."""
    lines = [opened(incident, f"Incident {incident}", reported_at="2026-02-01")]
    for number in range(assertions):
        lines += [
            recorded(incident, f"a{number}", f"Headline {number}"),
            attached(incident, f"a{number}", f"Outlet {number}"),
            ranked(incident, f"a{number}"),
        ]
    return lines


def ndjson(lines: list) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


def run(engine, lines: list, **options) -> importing.ImportReport:
    return import_file(engine, io.BytesIO(ndjson(lines)), **options)


def stored(store: EventStore) -> list[tuple]:
    return [(e.incident_id, e.version, e.event_id, e.type, e.data) for e in store.read_all(limit=100_000)]


def derived_id(line: dict) -> str:
    return content_id(line["incident_id"], importing.parse_line(1, json.dumps(line).encode()).event)


def numbers(report) -> list[int]:
    return [problem.number for problem in report.problems]


# -- every problem, with its line; nothing written ---------------------------------------------------


def test_a_file_with_three_bad_lines_reports_all_three_and_writes_nothing(engine, store):
    lines = story("fresh")
    lines.insert(
        2, {**recorded("fresh", "bad-kind"), "data": {**recorded("fresh", "x")["data"], "kind": "rumour"}}
    )  # line 3
    lines.insert(5, attached("fresh", "never-recorded", "AP"))  # line 6
    lines.insert(8, ranked("fresh", "a1", reported_at="02/02/2026"))  # line 9
    report = run(engine, lines)

    assert numbers(report) == [3, 6, 9]
    messages = [str(problem) for problem in report.problems]
    assert "line 3: data.kind: unknown kind 'rumour'" in messages[0]
    assert "line 6: data.assertion_id: no assertion 'never-recorded' is recorded in incident 'fresh'" == messages[1]
    assert messages[2].startswith("line 9: reported_at: '02/02/2026' is not a calendar date")
    assert (report.refused, report.conflicts, report.new, report.appended) == (3, 0, len(lines) - 3, 0)
    assert store.head_position() == 0
    assert "3 lines refused, so nothing was written" in report.summary()


def test_problems_of_every_kind_are_found_in_one_pass(engine, store):
    open_incident(store, "existing", {"title": "Existing"}, actor="test")
    lines = [
        opened("fresh"),
        b"{not json",
        b"[1, 2]",
        {**opened("Bad Id")},
        {**recorded("fresh", "a1"), "event_id": "not-a-uuid"},
        {**recorded("fresh", "a2"), "data": {**recorded("fresh", "a2")["data"], "headline": "NUL \u0000 in it"}},
        {**recorded("fresh", "a3"), "metadata": {"note": "\ud800"}},
        {
            "incident_id": "fresh",
            "type": "IncidentsLinked",
            "data": {"related_incident_id": "nowhere", "relation": "related"},
        },
        {
            "incident_id": "fresh",
            "type": "IncidentsLinked",
            "data": {"related_incident_id": "existing", "relation": "related"},
        },
        {"incident_id": "fresh", "type": "Rumoured", "data": {}},
        attached("never-opened", "a1", "CNN"),
        attached("never-opened", "a1", "CNN"),  # the incident's absence is one problem, not one per line
        {**recorded("fresh", "a4"), "reported_at": "2999-01-01"},
        b'{"incident_id": "fresh", "type": "AssertionRanked", "data": {"assertion_id": "a1", "rank": "normal", "x": NaN}}',
        {**recorded("fresh", "a5"), "schema_version": 7},
    ]
    report = run(engine, lines)
    problems = {problem.number: problem.message for problem in report.problems}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 15], problems
    assert "not valid JSON" in problems[2] and "JSON object" in problems[3] and "incident_id must match" in problems[4]
    assert "event_id must be a UUID" in problems[5]
    assert "NUL character" in problems[6] and problems[7].startswith("metadata.note: contains a lone surrogate")
    assert problems[8] == "data.related_incident_id: there is no incident 'nowhere'"
    assert "unknown event type 'Rumoured'" in problems[10]
    assert "there is no incident 'never-opened'" in problems[11]
    assert "in the future" in problems[13] and "NaN" in problems[14]
    assert "AssertionRecorded has schema version 1 to 2, not 7" in problems[15]
    assert store.head_position() == 1  # only the incident opened above


def test_the_list_of_problems_is_capped_and_the_rest_counted(engine, store):
    lines = [opened("many")] + [attached("many", f"missing-{n}", "CNN") for n in range(150)]
    report = run(engine, lines, max_problems=100)
    assert report.refused == 150 and len(report.problems) == 100 and numbers(report)[:2] == [2, 3]
    assert report.problem_lines()[-1].startswith("... and 50 more lines with problems (150 in all")
    assert store.head_position() == 0


def test_a_dry_run_writes_nothing_and_reports_the_same_problems(engine, store):
    bad = story("dry") + [
        attached("dry", "nope", "AP"),
        {**recorded("dry", "a0"), "data": {**recorded("dry", "a0")["data"], "headline": "Edited"}},
    ]
    dry = run(engine, bad, dry_run=True)
    assert store.head_position() == 0
    real = run(engine, bad)
    assert [str(p) for p in dry.problems] == [str(p) for p in real.problems] and numbers(dry) == [11, 12]
    assert dry.summary().startswith(
        "dry run: 2 lines (1 of them a conflict) would be refused, so nothing would be imported"
    )
    assert store.head_position() == 0

    good = run(engine, story("dry"), dry_run=True)
    assert (good.new, good.appended, good.refused, good.incidents) == (10, 0, 0, 1)
    assert (
        good.summary()
        == "dry run: would import 10 events into 1 incident (0 already present, 0 refused); nothing was written"
    )
    assert store.head_position() == 0
    run(engine, story("dry")[:4])
    partly = run(engine, story("dry"), dry_run=True)
    assert (partly.new, partly.skipped) == (6, 4) and store.head_position() == 4


# -- identity: ids from content, re-ordered and extended files, conflicts ------------------------


def test_events_without_an_id_get_one_from_their_content(engine, store):
    lines = story("derived")
    run(engine, lines)
    assert [event_id for _, _, event_id, _, _ in stored(store)] == [derived_id(line) for line in lines]
    line = lines[1]
    canonical = json.dumps(
        [line["incident_id"], line["type"], line["data"], line["reported_at"]], sort_keys=True, separators=(",", ":")
    )
    assert derived_id(line) == str(uuid.uuid5(importing.CONTENT_NAMESPACE, canonical))
    no_time = {key: value for key, value in line.items() if key != "reported_at"}
    assert derived_id(no_time) == str(uuid.uuid5(importing.CONTENT_NAMESPACE, canonical.rsplit(",", 1)[0] + "]"))
    # the same content in another order of keys, or with other metadata, is the same event
    shuffled = [
        json.loads(json.dumps(line, sort_keys=True)) | {"metadata": {"actor": "someone else"}} for line in lines
    ]
    again = run(engine, list(reversed(shuffled[1:])) + shuffled[:1])
    assert (again.appended, again.skipped, again.refused) == (0, 10, 0)


def test_a_reordered_file_and_an_extended_file_import_only_the_new_events(engine, store):
    first, second = story("first"), story("second")
    run(engine, first + second)
    before = stored(store)

    # the two incidents swapped, and interleaved: each incident's own order kept
    interleaved = [line for pair in itertools.zip_longest(second, first) for line in pair if line]
    report = run(engine, interleaved)
    assert (report.appended, report.skipped, report.refused) == (0, 20, 0)
    assert stored(store) == before

    # a line added at the top (pointing at an assertion already stored), one in the middle, one at the end
    extended = [attached("second", "a0", "Added at the top")] + first + [ranked("first", "a2", "deprecated")] + second
    extended += [recorded("second", "a-new", "Added at the end")]
    report = run(engine, extended)
    assert (report.appended, report.skipped, report.refused, report.incidents) == (3, 20, 0, 2)
    after = stored(store)
    assert after[:20] == before
    assert [(e[0], e[3]) for e in after[20:]] == [
        ("second", "SourceAttached"),
        ("first", "AssertionRanked"),
        ("second", "AssertionRecorded"),
    ]
    assert run(engine, extended).appended == 0


def test_an_edited_line_is_a_conflict_and_nothing_is_appended(engine, store):
    lines = story("edited")
    run(engine, lines)
    edited = [dict(line) for line in lines]
    edited[4] = recorded("edited", "a1", "A headline edited since the first import")  # line 5
    edited.append(recorded("edited", "a9", "A new assertion, on a line that is fine"))
    report = run(engine, edited)
    assert numbers(report) == [5] and report.problems[0].conflict
    assert str(report.problems[0]) == (
        "line 5: conflict: data.assertion_id: assertion 'a1' is already recorded in this incident; revise it instead"
    )
    assert (report.refused, report.conflicts, report.new, report.appended) == (1, 1, 1, 0)
    assert store.head_position() == 10


def test_a_second_incident_opened_with_another_title_is_a_conflict(engine, store):
    run(engine, story("titled"))
    report = run(engine, [opened("titled", "Another title", reported_at="2026-02-01")])
    assert numbers(report) == [1] and report.problems[0].conflict
    assert "incident 'titled' is already open, and this IncidentOpened differs" in report.problems[0].message

    # within one file too
    report = run(engine, [opened("twice", "One title"), recorded("twice", "a1"), opened("twice", "Another title")])
    assert numbers(report) == [3] and report.conflicts == 1
    assert store.head_position() == 10


def test_an_explicit_event_id_is_kept_and_one_stored_with_other_content_is_a_conflict(engine, store):
    event_id = "8d3e4c52-6a4f-4d63-9a1f-0c2b7e9d5a11"
    run(engine, [{**opened("explicit"), "event_id": event_id.upper()}])
    assert store.read_all()[0].event_id == event_id
    assert run(engine, [{**opened("explicit"), "event_id": event_id}]).skipped == 1

    report = run(engine, [{**opened("explicit", "Changed"), "event_id": event_id}])
    assert report.conflicts == 1
    assert report.problems[0].message == f"event {event_id} is already stored, with other content (its data differs)"
    report = run(engine, [opened("other"), {**ranked("other", "a1"), "event_id": event_id}])
    assert "already stored, with other content (it is in incident 'explicit')" in report.problems[0].message
    assert store.head_position() == 1


def test_a_line_repeated_in_the_file_is_one_event_and_a_reused_id_a_conflict(engine, store):
    lines = story("repeats")
    report = run(engine, lines + lines[1:4])
    assert (report.appended, report.repeated, report.refused) == (10, 3, 0)
    assert "13 already present" not in report.summary() and "(3 of them repeated in the file)" in report.summary()

    event_id = "2b8f5d1e-7c3a-4e9b-8f6d-1a2c3e4f5a6b"
    report = run(
        engine,
        [
            opened("reused"),
            {**recorded("reused", "a1"), "event_id": event_id},
            {**recorded("reused", "a2"), "event_id": event_id},
        ],
    )
    assert (
        str(report.problems[0]) == f"line 3: conflict: event_id {event_id} is also line 2's, which says something else"
    )
    assert store.head_position() == 10


def test_repeats_are_found_exactly_even_when_fingerprints_collide(engine, store, monkeypatch):
    monkeypatch.setattr(importing, "hash", lambda value: 42, raising=False)  # every event id on one fingerprint
    lines = story("collide", assertions=30)
    report = run(engine, lines + lines[5:7])
    assert (report.appended, report.repeated, report.refused) == (len(lines), 2, 0)


def test_an_event_recorded_through_the_api_is_already_present_when_the_content_is_the_same(engine, store):
    open_incident(store, "via-api", {"title": "Through the API"}, actor="desk", reported_at="2026-02-01")
    line = recorded("via-api", "a1", "Recorded by an editor")
    append_events(store, "via-api", [EventCommand(line["type"], line["data"], line["reported_at"])], actor="desk")
    report = run(
        engine, [opened("via-api", "Through the API", reported_at="2026-02-01"), line, ranked("via-api", "a1")]
    )
    assert (report.appended, report.skipped, report.refused) == (1, 2, 0)
    report = run(engine, [recorded("via-api", "a1", "Recorded by an editor, then edited in the file")])
    assert report.conflicts == 1 and store.head_position() == 3


# -- what is stored ------------------------------------------------------------------------------


def test_the_samples_import_once(engine, store):
    with SAMPLES.open("rb") as stream:
        first = import_file(engine, stream)
    assert (first.appended, first.incidents, first.registry, first.refused) == (145, 5, True, 0)
    with SAMPLES.open("rb") as stream:
        again = import_file(engine, stream)
    assert (again.appended, again.skipped, again.refused) == (0, 145, 0)
    assert store.head_position() == 145
    assert all(event.metadata["actor"] == "sample-loader" for event in store.read_all(limit=200))


def test_an_export_reimports_into_a_fresh_store_as_the_same_log(engine, store, backend, request, tmp_path):
    with SAMPLES.open("rb") as stream:
        import_file(engine, stream)
    run(engine, [ranked("alex-pretti-shooting", "pretti-shot", "normal", reported_at="2026-02-03T09:15:00-05:00")])
    exported = b"".join(json.dumps(envelope(event)).encode() + b"\n" for event in store.read_all(limit=1000))

    (tmp_path / "other").mkdir()
    other = create_engine(fresh_database_url(backend, request, tmp_path / "other"))
    try:
        report = import_file(other, io.BytesIO(exported))
        assert (report.appended, report.refused) == (146, 0)

        def log(events):
            return [
                (
                    e.position,
                    e.event_id,
                    e.incident_id,
                    e.version,
                    e.type,
                    e.schema_version,
                    e.data,
                    e.metadata,
                    e.reported_at,
                    e.reported_day,
                )
                for e in events
            ]

        copy = EventStore(other)
        assert log(copy.read_all(limit=1000)) == log(store.read_all(limit=1000))
        assert copy.read_all(limit=1000)[-1].published.text() == "2026-02-03T14:15:00Z"
        assert import_file(other, io.BytesIO(exported)).skipped == 146  # and into the same store: nothing
    finally:
        other.dispose()


def test_old_schema_versions_are_checked_once_upcast_and_stored_as_written(engine, store):
    v1 = {
        "assertion_id": "old",
        "kind": "death",
        "occurred": "2026-01",
        "headline": "Written by an older version",
        "source": {"outlet": "Sky News"},
    }
    lines = [
        opened("older"),
        {"incident_id": "older", "type": "AssertionRecorded", "schema_version": 1, "data": v1},
        attached("older", "old", "CNN"),
    ]
    assert run(engine, lines).appended == 3
    with store.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT schema_version, data FROM events WHERE type = 'AssertionRecorded'").one()
    assert raw[0] == 1 and (json.loads(raw[1]) if isinstance(raw[1], str) else raw[1]) == v1  # as written
    assert store.read_all()[1].data["sources"] == [{"outlet": "Sky News"}]  # upcast when read

    sourceless = {**v1, "assertion_id": "old-2"}
    del sourceless["source"]
    report = run(
        engine, [{"incident_id": "older", "type": "AssertionRecorded", "schema_version": 1, "data": sourceless}]
    )
    assert report.problems[0].message == "data.sources: an assertion needs at least one source"
    assert run(engine, lines).skipped == 3


# -- how it goes about it ---------------------------------------------------------------------------


def test_a_long_incident_is_read_from_the_store_once_per_pass_not_once_per_batch(engine, store, monkeypatch):
    run(engine, story("long", assertions=1))
    calls = []
    data_values = EventStore.data_values
    monkeypatch.setattr(EventStore, "data_values", lambda self, *args: calls.append(args) or data_values(self, *args))
    lines = [recorded("long", f"more-{n}") for n in range(1000)] + [
        attached("long", f"more-{n}", "AP") for n in range(1000)
    ]
    report = run(engine, lines, batch_size=100)
    assert (report.appended, report.refused) == (2000, 0)
    assert len(calls) == 2  # one read in the check, one in the write: not one per batch of 100


def test_a_line_too_long_is_refused_without_being_read_whole(engine, store, monkeypatch):
    monkeypatch.setattr(importing, "MAX_LINE_BYTES", 300)
    long_line = recorded("long-line", "a1", "x" * 500)
    report = run(engine, [opened("long-line"), long_line, recorded("long-line", "a2")])
    assert [str(p) for p in report.problems] == ["line 2: longer than 300 bytes; one event per line"]
    assert report.new == 2


def test_a_stream_that_cannot_seek_is_spooled(engine, store):
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    report = import_file(engine, io.BufferedReader(Pipe(ndjson(story("piped")))))
    assert report.appended == 10


def test_a_concurrent_change_stops_the_write_and_says_what_was_written(engine, store):
    class Meddler(Progress):
        def writing(self, events: int) -> None:  # between the check and the write
            open_incident(store, "second", {"title": "Opened meanwhile"}, actor="desk")

    with pytest.raises(ImportStopped) as stopped:
        run(engine, story("first") + story("second"), progress=Meddler())
    assert stopped.value.line == 11 and stopped.value.report.appended == 10
    assert "stopped at line 11: incident 'second' already exists; 10 events of earlier lines were written" in str(
        stopped.value
    )
    report = run(engine, story("first") + story("second"))
    assert (report.skipped, report.conflicts) == (10, 1)  # the second incident is now another's


def test_import_batches_keeps_its_contract(engine, store):
    """The callers that load the samples (read_ndjson + import_batches), and lists of lines (benchmarks)."""
    with SAMPLES.open("rb") as stream:
        assert import_batches(engine, read_ndjson(stream)).appended == 145
    with pytest.raises(ImportError_) as refused:
        import_batches(
            engine, read_ndjson(io.BytesIO(ndjson([opened("x"), attached("x", "a", "b"), attached("x", "c", "d")])))
        )
    assert "line 2:" in str(refused.value) and "line 3:" in str(refused.value)
    with pytest.raises(TypeError):
        import_batches(engine, (line for line in []))


# -- a property ----------------------------------------------------------------------------------

_examples = itertools.count()


@st.composite
def interleavings(draw):
    """A few incidents' valid streams, and a merge of them that keeps each incident's own order."""
    example = next(_examples)
    streams = [
        story(f"p{example}-{number}", assertions=draw(st.integers(0, 3))) for number in range(draw(st.integers(1, 4)))
    ]
    positions = [index for index, lines in enumerate(streams) for _ in lines]
    order = draw(st.permutations(positions))
    cursors = [0] * len(streams)
    merged = []
    for index in order:
        merged.append(streams[index][cursors[index]])
        cursors[index] += 1
    return [line for lines in streams for line in lines], merged


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=interleavings())
def test_any_interleaving_that_keeps_each_incidents_order_imports_the_same_events(engine, store, files):
    in_order, merged = files
    incidents = {line["incident_id"] for line in in_order}
    report = run(engine, merged)
    assert (report.appended, report.refused) == (len(in_order), 0)
    events = [e for e in store.read_all(limit=100_000) if e.incident_id in incidents]
    by_incident = sorted((e.incident_id, e.version, e.event_id) for e in events)
    expected = sorted(
        (line["incident_id"], version, derived_id(line))
        for incident in incidents
        for version, line in enumerate((line for line in in_order if line["incident_id"] == incident), start=1)
    )
    assert by_incident == expected
    assert run(engine, in_order).appended == 0


# -- the benchmark section runs (no timing is judged) -----------------------------------------------


@pytest.mark.parametrize("backends", ["sqlite", pytest.param("sqlite,postgres", marks=pytest.mark.postgres)])
def test_the_quick_import_benchmark_prints_every_row(backends):
    import re
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "import", "--quick", "--backends", backends],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in completed.stdout.splitlines()
        if re.match(r"\| (sqlite|postgres) ", line)
    ]
    runs = ("floor (raw driver)", "import", "import again (all present)")
    assert [(row[0], row[1]) for row in rows] == [(backend, run) for backend in backends.split(",") for run in runs]
    for row in rows:
        assert row[2] == "3,000" and re.fullmatch(r"\d+\.\d\d×", row[5]) and re.fullmatch(r"\d+ MB", row[6]), row
