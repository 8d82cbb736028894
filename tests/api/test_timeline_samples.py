"""Timelines over the sample incidents built from the five corpus reports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app.importing import import_batches, read_ndjson
from tests.api.conftest import assertion

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "minneapolis-2026.ndjson"
PRETTI = "alex-pretti-shooting"


@pytest.fixture
def samples(engine):
    with SAMPLES.open("rb") as stream:
        summary = import_batches(engine, read_ndjson(stream))
    assert summary.appended > 100
    return summary


def get_timeline(client, incident=PRETTI, **params):
    response = client.get(f"/v1/incidents/{incident}/timeline", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_id(body) -> dict:
    return {entry["assertion_id"]: entry for entry in body["entries"]}


def test_the_timeline_is_ordered_by_when_things_happened(client, samples):
    body = get_timeline(client)
    keys = [(e["occurred"]["earliest"], e["occurred"]["latest"]) for e in body["entries"]]
    assert keys == sorted(keys)
    assert body["incident"]["title"] and body["incident"]["links"]
    assert body["version"] > 40 and body["cut_off"] == {"as_of": None, "as_of_version": None, "reported_as_of": None}
    entries = by_id(body)
    shot = entries["pretti-shot"]["occurred"]
    assert (shot["earliest"], shot["latest"], shot["precision"]) == ("2026-01-24", "2026-01-24", "day")
    assert entries["pretti-shot"]["rank"] == "preferred"
    # the DOJ investigation (Friday, Jan 30) comes after the shooting (Jan 24)
    ids = [e["assertion_id"] for e in body["entries"]]
    assert ids.index("pretti-shot") < ids.index("doj-civil-rights-investigation")


def test_a_dispute_is_visible_from_both_sides(client, samples):
    entries = by_id(get_timeline(client))
    claim = entries["noem-weapon-claim"]
    assert {"videos-show-phone", "nyt-analysis-disarmed", "cbp-review-no-weapon-brandished"} <= set(
        claim["disputed_by"]
    )
    for other in claim["disputed_by"]:
        assert "noem-weapon-claim" in entries[other]["disputes"]
    assert claim["attributed_to"] == "Kristi Noem"
    assert all(note["note"] for note in claim["dispute_notes"])


def test_corroboration_counts_every_outlet_once(client, samples):
    entries = by_id(get_timeline(client))
    outlets = [source["outlet"] for source in entries["pretti-shot"]["sources"]]
    assert len(outlets) == len(set(outlets)) == entries["pretti-shot"]["corroboration"] == 5
    assert all(source.get("quote") for source in entries["pretti-shot"]["sources"])


def test_a_revised_date_moves_the_entry(client, store, samples):
    revised = next(
        e for e in store.read_stream(PRETTI) if e.type == "AssertionRevised" and e.data["assertion_id"] == "pretti-shot"
    )
    before = by_id(get_timeline(client, as_of_version=revised.version - 1))["pretti-shot"]
    after = by_id(get_timeline(client, as_of_version=revised.version))["pretti-shot"]
    assert before["occurred"]["edtf"] == "2026-01-21/2026-01-31" and before["revisions"]["count"] == 0
    assert after["occurred"]["edtf"] == "2026-01-24" and after["revisions"]["count"] == 1
    history = by_id(get_timeline(client, history="true"))["pretti-shot"]["revisions"]["history"]
    assert history[0]["before"]["occurred"] == "2026-01-21/2026-01-31"


def test_a_retraction_hides_the_entry_unless_asked_and_keeps_the_reason(client, samples, writer):
    response = client.post(
        f"/v1/incidents/{PRETTI}/events",
        json={
            "events": [
                {
                    "type": "AssertionRetracted",
                    "data": {"assertion_id": "ny-post-misfire-report", "reason": "the Post withdrew the report"},
                }
            ]
        },
        headers=writer,
    )
    assert response.status_code == 201
    assert "ny-post-misfire-report" not in by_id(get_timeline(client))
    retracted = by_id(get_timeline(client, include_retracted="true"))["ny-post-misfire-report"]
    assert retracted["status"] == "retracted"
    assert retracted["retraction"]["reason"] == "the Post withdrew the report"


def test_each_cut_off_returns_what_was_known_then(client, store, samples, writer):
    known_before = store.read_stream(PRETTI)[-1].recorded_at
    version_before = store.stream_version(PRETTI)
    published_later = "2026-02-03T09:00:00Z"
    response = client.post(
        f"/v1/incidents/{PRETTI}/events",
        json={
            "events": [
                {
                    **assertion("officers-named-in-court", occurred="2026-02-03", kind="officer_identified"),
                    "reported_at": published_later,
                }
            ]
        },
        headers=writer,
    )
    assert response.status_code == 201

    assert "officers-named-in-court" in by_id(get_timeline(client))
    as_of = get_timeline(client, as_of=known_before.isoformat())
    assert as_of["version"] == version_before and "officers-named-in-court" not in by_id(as_of)
    assert as_of["cut_off"]["as_of"] == known_before.isoformat().replace("+00:00", "Z")
    assert "officers-named-in-court" not in by_id(get_timeline(client, as_of_version=version_before))
    reported = get_timeline(client, reported_as_of="2026-02-02")  # a date: the end of that day (UTC)
    assert "officers-named-in-court" not in by_id(reported) and "pretti-shot" in by_id(reported)
    assert reported["cut_off"]["reported_as_of"] == "2026-02-02T23:59:59.999999Z"
    # The reports are known to the day only: until that day has ended, none of them counts as public.
    assert by_id(get_timeline(client, reported_as_of="2026-02-02T23:59:59Z")) == {}
    assert by_id(get_timeline(client, reported_as_of="2026-02-01T00:00:00Z")) == {}
    assert "officers-named-in-court" in by_id(get_timeline(client, reported_as_of=published_later))
    before_anything = get_timeline(client, as_of="2000-01-01T00:00:00Z")
    assert before_anything["version"] == 0 and before_anything["entries"] == []


def test_filters_by_kind_and_dates(client, samples):
    statements = get_timeline(client, kind="official_statement")["entries"]
    assert statements and {e["kind"] for e in statements} == {"official_statement"}
    in_window = get_timeline(client, occurred_from="2026-01-30", occurred_to="2026-01-30")["entries"]
    assert "doj-civil-rights-investigation" in [e["assertion_id"] for e in in_window]
    assert all(e["occurred"]["earliest"] <= "2026-01-30" <= e["occurred"]["latest"] for e in in_window)


def test_changes_between_two_cut_offs(client, store, samples, writer):
    since = store.stream_version(PRETTI)
    batch = [
        assertion("new-footage", occurred="2026-01-24", kind="evidence_released"),
        {
            "type": "AssertionRevised",
            "data": {
                "assertion_id": "agents-on-leave",
                "changes": {"headline": "Two agents placed on administrative leave"},
                "reason": "clearer",
            },
        },
        {"type": "AssertionRetracted", "data": {"assertion_id": "ny-post-misfire-report", "reason": "withdrawn"}},
    ]
    assert client.post(f"/v1/incidents/{PRETTI}/events", json={"events": batch}, headers=writer).status_code == 201
    changes = client.get(f"/v1/incidents/{PRETTI}/timeline/changes", params={"since": since}).json()
    assert [e["assertion_id"] for e in changes["added"]] == ["new-footage"]
    assert [c["assertion_id"] for c in changes["changed"]] == ["agents-on-leave"]
    assert changes["changed"][0]["fields"]["headline"]["after"] == "Two agents placed on administrative leave"
    assert set(changes["changed"][0]["fields"]) == {"headline", "revisions"}
    assert [e["assertion_id"] for e in changes["retracted"]] == ["ny-post-misfire-report"]
    assert changes["since"]["version"] == since and changes["until"]["version"] == since + 3
    nothing = client.get(f"/v1/incidents/{PRETTI}/timeline/changes", params={"since": since + 3}).json()
    assert nothing["added"] == nothing["changed"] == nothing["retracted"] == []
    by_time = client.get(
        f"/v1/incidents/{PRETTI}/timeline/changes",
        params={"since": "2000-01-01T00:00:00Z", "until": since},
    ).json()
    assert len(by_time["added"]) == len(by_id(get_timeline(client, as_of_version=since)))
    bad = client.get(f"/v1/incidents/{PRETTI}/timeline/changes", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_an_unchanged_timeline_is_a_304(client, samples, writer):
    first = client.get(f"/v1/incidents/{PRETTI}/timeline")
    etag = first.headers["etag"]
    again = client.get(f"/v1/incidents/{PRETTI}/timeline", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other_filter = client.get(
        f"/v1/incidents/{PRETTI}/timeline", params={"kind": "shooting"}, headers={"If-None-Match": etag}
    )
    assert other_filter.status_code == 200
    client.post(f"/v1/incidents/{PRETTI}/events", json={"events": [assertion("late-news")]}, headers=writer)
    moved_on = client.get(f"/v1/incidents/{PRETTI}/timeline", headers={"If-None-Match": etag})
    assert moved_on.status_code == 200 and moved_on.headers["etag"] != etag


def test_assertions_across_incidents(client, samples):
    everything = client.get("/v1/assertions", params={"limit": 1000}).json()
    assert everything["total"] == 52 == len(everything["assertions"])
    statements = client.get(
        "/v1/assertions",
        params={
            "kind": "official_statement",
            "occurred_from": "2026-01-01",
            "occurred_to": "2026-01-31",
            "as_of": datetime.now(timezone.utc).isoformat(),
        },
    ).json()["assertions"]
    assert statements and {a["kind"] for a in statements} == {"official_statement"}
    assert {a["incident_id"] for a in statements} >= {PRETTI}
    noem = client.get("/v1/assertions", params={"attributed_to": "noem"}).json()["assertions"]
    assert noem and all("Noem" in a["attributed_to"] for a in noem)
    fox = client.get("/v1/assertions", params={"source": "FOX 9", "incident": PRETTI}).json()["assertions"]
    assert fox and all(any(s["outlet"] == "FOX 9" for s in a["sources"]) for a in fox)
    assert {a["incident_id"] for a in fox} == {PRETTI}
    page = client.get("/v1/assertions", params={"limit": 10, "offset": 10}).json()
    assert [a["assertion_id"] for a in page["assertions"]] == [
        a["assertion_id"] for a in everything["assertions"][10:20]
    ]
    known_then = client.get("/v1/assertions", params={"as_of": "2000-01-01T00:00:00Z"}).json()
    assert known_then["total"] == 0


def test_csv_export_has_the_same_rows_as_the_json(client, samples):
    entries = get_timeline(client)["entries"]
    response = client.get(f"/v1/incidents/{PRETTI}/timeline", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["assertion_id"] for row in rows] == [e["assertion_id"] for e in entries]
    assert [row["headline"] for row in rows] == [e["headline"] for e in entries]
