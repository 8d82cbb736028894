"""Timeline exports (TimelineJS, CSV, NDJSON) hold the same entries as the JSON timeline, under the
same cut-offs and filters. (That the TimelineJS export loads in the real TimelineJS is shown by
tests/e2e/test_timelinejs_browser.py.)"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from app.api.exports import CSV_COLUMNS
from app.importing import import_batches, read_ndjson
from tests.api.conftest import assertion

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "minneapolis-2026.ndjson"
PRETTI = "alex-pretti-shooting"
FORMATS = ("timelinejs", "csv", "ndjson")


@pytest.fixture
def samples(engine, client, writer) -> None:
    with SAMPLES.open("rb") as stream:
        import_batches(engine, read_ndjson(stream))
    # The samples retract nothing; an export must still say so when something is.
    retracted = client.post(
        f"/v1/incidents/{PRETTI}/events",
        json={
            "events": [
                {
                    "type": "AssertionRetracted",
                    "data": {"assertion_id": "ny-post-misfire-report", "reason": "The Post withdrew the report"},
                }
            ]
        },
        headers=writer,
    )
    assert retracted.status_code == 201, retracted.text


def timeline(client, incident: str = PRETTI, **params) -> dict:
    response = client.get(f"/v1/incidents/{incident}/timeline", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def export(client, format: str, incident: str = PRETTI, **params):
    response = client.get(f"/v1/incidents/{incident}/timeline", params={"format": format, **params})
    assert response.status_code == 200, response.text
    return response


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def ndjson_entries(text: str) -> list[dict]:
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def tl_date(day: str) -> dict[str, str]:
    parsed = date.fromisoformat(day)
    return {"year": str(parsed.year), "month": str(parsed.month), "day": str(parsed.day)}


def ids_in(format: str, response) -> list[str]:
    if format == "timelinejs":
        return [event["unique_id"] for event in response.json()["events"]]
    if format == "csv":
        return [row["assertion_id"] for row in csv_rows(response.text)]
    return [entry["assertion_id"] for entry in ndjson_entries(response.text)]


# -- TimelineJS ----------------------------------------------------------------------------


def test_timelinejs_has_one_slide_per_entry_in_knight_labs_shape(client, samples):
    body = timeline(client, include_retracted="true")
    response = export(client, "timelinejs", include_retracted="true")
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert (
        data["title"]["text"]["headline"] == "Alex Pretti fatally shot by federal immigration officers in Minneapolis"
    )
    assert len(data["events"]) == len(body["entries"]) > 10
    for slide, entry in zip(data["events"], body["entries"], strict=True):
        occurred = entry["occurred"]
        assert slide["unique_id"] == entry["assertion_id"]
        assert slide["start_date"] == tl_date(occurred["earliest"])
        assert slide["display_date"] == occurred["display"]
        assert slide["group"] == entry["kind"].replace("_", " ").capitalize()
        assert set(slide["text"]) == {"headline", "text"}
        if occurred["latest"] != occurred["earliest"]:
            assert slide["end_date"] == tl_date(occurred["latest"])  # a vague date spans its range
        else:
            assert "end_date" not in slide
    assert len({slide["unique_id"] for slide in data["events"]}) == len(data["events"])


def test_timelinejs_slides_say_what_the_widget_says(client, samples):
    slides = {
        slide["unique_id"]: slide for slide in export(client, "timelinejs", include_retracted="true").json()["events"]
    }
    vague = slides["videos-show-phone"]
    assert vague["display_date"] == "Jan 24 – Feb 2, 2026"
    assert vague["start_date"] == {"year": "2026", "month": "1", "day": "24"}
    assert vague["end_date"] == {"year": "2026", "month": "2", "day": "2"}

    claim = slides["noem-weapon-claim"]["text"]["text"]
    assert "<strong>Disputed by:</strong>" in claim
    assert "Videos appear to show Pretti holding only a phone" in claim  # named by headline, not id
    assert "According to Kristi Noem" in claim
    assert "<strong>Disputes:</strong>" in slides["videos-show-phone"]["text"]["text"]

    retracted = slides["ny-post-misfire-report"]
    assert retracted["text"]["headline"].startswith("<s>")
    assert "<strong>Retracted:</strong> The Post withdrew the report" in retracted["text"]["text"]


def test_timelinejs_escapes_html_in_the_data(client, writer, samples):
    client.post(
        f"/v1/incidents/{PRETTI}/events",
        json={
            "events": [
                assertion(
                    "html-test",
                    headline="<script>alert(1)</script> & more",
                    text="a <b>bold</b> claim",
                    attributed_to="O'Brien & <Co>",
                )
            ]
        },
        headers=writer,
    )
    slide = next(s for s in export(client, "timelinejs").json()["events"] if s["unique_id"] == "html-test")
    assert slide["text"]["headline"] == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"
    assert "<b>" not in slide["text"]["text"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in slide["text"]["text"]
    assert "O&#x27;Brien &amp; &lt;Co&gt;" in slide["text"]["text"]


# -- CSV -------------------------------------------------------------------------------------


def expected_csv_row(entry: dict) -> dict[str, str]:
    """What an analyst should find in each column, written out from the JSON entry."""
    occurred = entry["occurred"]
    return {
        "assertion_id": entry["assertion_id"],
        "kind": entry["kind"],
        "occurred": occurred["edtf"],
        "earliest": occurred["earliest"],
        "latest": occurred["latest"],
        "precision": occurred["precision"],
        "display": occurred["display"],
        "headline": entry["headline"],
        "text": entry["text"] or "",
        "attributed_to": entry["attributed_to"] or "",
        "actors": "; ".join(entry["actors"]),
        "outlets": "; ".join(s["outlet"] for s in entry["sources"]),
        "corroboration": str(len(entry["sources"])),
        "status": entry["status"],
        "retraction_reason": entry["retraction"]["reason"] if entry["retraction"] else "",
        "rank": entry["rank"],
        "disputes": "; ".join(entry["disputes"]),
        "disputed_by": "; ".join(entry["disputed_by"]),
        "revisions": str(entry["revisions"]["count"]),
        "first_reported_at": entry["first_reported_at"],
        "recorded_at": entry["recorded_at"],
    }


def test_csv_reads_back_with_the_csv_module_to_the_json_rows(client, samples):
    body = timeline(client, include_retracted="true")
    response = export(client, "csv", include_retracted="true")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{PRETTI}-timeline.csv"'
    reader = csv.DictReader(io.StringIO(response.text, newline=""))
    assert reader.fieldnames == CSV_COLUMNS
    rows = list(reader)
    assert rows == [expected_csv_row(entry) for entry in body["entries"]]
    by_id = {row["assertion_id"]: row for row in rows}
    assert by_id["ny-post-misfire-report"]["status"] == "retracted"
    assert by_id["noem-weapon-claim"]["disputed_by"].split("; ") == [
        "videos-show-phone",
        "nyt-analysis-disarmed",
        "cbp-review-no-weapon-brandished",
        "ny-post-misfire-report",
    ]


def test_csv_survives_commas_quotes_newlines_and_unicode(client, writer, samples):
    awkward = 'He said, "stop" —\nthen, after a pause:\r\n"it\'s over"; ünïcödé ✓'
    client.post(
        f"/v1/incidents/{PRETTI}/events",
        json={"events": [assertion("awkward", headline='Quote "inside", comma', text=awkward, actors=["A; B", "C"])]},
        headers=writer,
    )
    row = next(r for r in csv_rows(export(client, "csv").text) if r["assertion_id"] == "awkward")
    assert row["headline"] == 'Quote "inside", comma'
    entry = next(e for e in timeline(client)["entries"] if e["assertion_id"] == "awkward")
    assert entry["text"] == awkward
    assert row["text"] == awkward  # the line breaks inside the field survive, \r\n included
    assert row == expected_csv_row(entry)


# -- NDJSON ----------------------------------------------------------------------------------


def test_ndjson_round_trips_to_the_json_entries(client, samples):
    body = timeline(client, include_retracted="true", history="true")
    response = export(client, "ndjson", include_retracted="true", history="true")
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    assert all(line.strip() and "\n" not in line for line in lines)
    assert ndjson_entries(response.text) == body["entries"]
    revised = next(e for e in ndjson_entries(response.text) if e["assertion_id"] == "pretti-shot")
    assert revised["revisions"]["count"] == 1 and len(revised["revisions"]["history"]) == 1


# -- the same cut-offs and filters as the timeline ---------------------------------------------


CUTS = [
    pytest.param({}, id="now"),
    pytest.param({"include_retracted": "true"}, id="with-retracted"),
    pytest.param({"as_of_version": "20"}, id="as_of_version"),
    pytest.param({"kind": "investigation_finding,official_statement"}, id="kind"),
    pytest.param({"occurred_from": "2026-01-26", "occurred_to": "2026-01-31"}, id="occurred-window"),
    # Before the retraction was reported (the samples are all published on Feb 2), so the
    # retracted entry is still active and present in every format.
    pytest.param({"reported_as_of": "2026-02-03T00:00:00Z"}, id="reported_as_of"),
]


@pytest.mark.parametrize("params", CUTS)
@pytest.mark.parametrize("format", FORMATS)
def test_every_format_holds_the_entries_the_json_holds(client, samples, format, params):
    expected = [entry["assertion_id"] for entry in timeline(client, **params)["entries"]]
    assert ids_in(format, export(client, format, **params)) == expected


def test_cut_offs_change_what_an_export_holds(client, samples):
    now = ids_in("csv", export(client, "csv"))
    early = ids_in("csv", export(client, "csv", as_of_version="10"))
    assert len(early) < len(now)
    assert "ny-post-misfire-report" not in now  # retracted entries stay out unless asked for
    assert "ny-post-misfire-report" in ids_in("csv", export(client, "csv", include_retracted="true"))
    before_retraction = csv_rows(export(client, "csv", reported_as_of="2026-02-03T00:00:00Z").text)
    assert {"assertion_id": "ny-post-misfire-report", "status": "active"}.items() <= next(
        row for row in before_retraction if row["assertion_id"] == "ny-post-misfire-report"
    ).items()


def test_each_format_has_its_own_etag_and_revalidates(client, samples):
    tags = {}
    for format in ("json", *FORMATS):
        response = export(client, format)
        tags[format] = response.headers["etag"]
        again = client.get(
            f"/v1/incidents/{PRETTI}/timeline", params={"format": format}, headers={"If-None-Match": tags[format]}
        )
        assert again.status_code == 304
    assert len(set(tags.values())) == 4


def test_an_empty_timeline_exports_cleanly(client, writer):
    client.post("/v1/incidents", json={"id": "quiet", "title": "Quiet"}, headers=writer)
    assert export(client, "timelinejs", "quiet").json()["events"] == []
    assert csv_rows(export(client, "csv", "quiet").text) == []
    assert export(client, "csv", "quiet").text.splitlines() == [",".join(CSV_COLUMNS)]
    assert export(client, "ndjson", "quiet").text == ""


def test_an_unknown_format_is_a_422(client, samples):
    response = client.get(f"/v1/incidents/{PRETTI}/timeline", params={"format": "xlsx"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
