"""Analysts' exports (CSV, GeoJSON, Parquet) from entries folded out of the sample incidents."""

from __future__ import annotations

import ast
import copy
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.projections import analyst_exports
from app.projections.analyst_exports import (
    COLUMNS,
    FORMATS,
    SCHEMA,
    content_digest,
    date_precision,
    export_row,
    formula_safe,
    to_csv,
    to_geojson,
    to_parquet,
)
from app.projections.timeline import entries, fold
from events.dates import parse_occurred
from events.published import parse_published
from tests.support.examples import examples

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "events/samples/minneapolis-2026.ndjson"
RECORDED = datetime(2026, 2, 3, tzinfo=timezone.utc)
RENDERERS = [to_csv, to_geojson, to_parquet]


@dataclass(frozen=True)
class Ev:
    position: int
    version: int
    type: str
    data: dict[str, Any]
    reported_at: datetime
    recorded_at: datetime
    reported_day: date | None = None


def fold_lines(lines: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Entries as `GET /v1/assertions` gives them, and each incident's own location."""
    streams: dict[str, list[Ev]] = {}
    for position, line in enumerate(lines, start=1):
        stream = streams.setdefault(line["incident_id"], [])
        published = parse_published(line.get("reported_at", "2026-02-02"))
        recorded = RECORDED + timedelta(seconds=position)
        stream.append(
            Ev(position, len(stream) + 1, line["type"], line["data"], published.moment, recorded, published.day)
        )
    found, locations = [], {}
    for incident_id, events in streams.items():
        state = fold(incident_id, events)
        locations[incident_id] = state["incident"].get("location")
        found.extend({"incident_id": incident_id, **entry} for entry in entries(state))
    return found, locations


@cache
def _sample_json() -> str:
    lines = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.dumps(fold_lines(lines))


def sample() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A fresh copy each time, so a test that edits it cannot leak into another."""
    found, locations = json.loads(_sample_json())
    return found, locations


def by_id(found: list[dict[str, Any]], assertion_id: str) -> dict[str, Any]:
    (entry,) = [e for e in found if e["assertion_id"] == assertion_id]
    return entry


def dated(*occurred: str, location: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One incident, one assertion per EDTF string (ids a0, a1, ...), folded."""
    lines: list[dict[str, Any]] = [
        {"incident_id": "dates", "type": "IncidentOpened", "data": {"title": "Dates", "location": location}}
    ]
    for n, edtf in enumerate(occurred):
        data = {
            "assertion_id": f"a{n}",
            "kind": "other",
            "occurred": edtf,
            "headline": f"Headline {n}",
            "sources": [{"outlet": "FOX 9"}],
        }
        lines.append({"incident_id": "dates", "type": "AssertionRecorded", "data": data})
    return fold_lines(lines)[0]


def read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def read_parquet(body: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(body))


def csv_text(value: Any) -> str:
    """What the CSV must hold for a typed value of `row`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return formula_safe("; ".join(value))
    return formula_safe(value)


def json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# -- CSV ----------------------------------------------------------------------------------------


def test_the_csv_columns_are_acled_s_then_ours():
    found, locations = sample()
    header = next(csv.reader(io.StringIO(to_csv(found, locations).decode("utf-8"))))
    assert header == list(COLUMNS)
    assert header == [
        *("event_id", "event_date", "date_precision", "incident", "kind", "actor", "actor_id", "sources"),
        *("source_count", "notes", "latitude", "longitude", "geo_precision", "disputed", "status"),
        *("edtf", "earliest", "latest", "location", "disputed_by", "rank", "first_reported_at", "recorded_at"),
    ]


def test_the_csv_reads_back_to_every_row_of_the_sample():
    found, locations = sample()
    body = to_csv(found, locations)
    assert body.count(b"\r\n") == len(found) + 1
    parsed = read_csv(body)
    assert len(parsed) == len(found) == 52
    for entry, cells in zip(found, parsed):
        assert cells == {name: csv_text(value) for name, value in export_row(entry, locations).items()}


def test_a_sample_entry_reads_as_analysts_expect():
    found, locations = sample()
    cells = {c["event_id"]: c for c in read_csv(to_csv(found, locations))}
    pretti = cells["pretti-shot"]
    assert pretti["event_date"] == pretti["earliest"] == pretti["latest"] == "2026-01-24"
    assert pretti["date_precision"] == "1"
    assert pretti["incident"] == "alex-pretti-shooting"
    assert pretti["kind"] == "shooting"
    assert pretti["actor"] == pretti["actor_id"] == ""
    assert pretti["sources"] == "CNN; Sky News; Unattributed wire summary; The New York Times; FOX 9"
    assert pretti["source_count"] == "5"
    entry = by_id(found, "pretti-shot")
    assert pretti["notes"] == f"{entry['headline']} — {entry['text']}"
    assert pretti["notes"].startswith("Two federal officers shoot and kill Alex Pretti")
    assert (pretti["latitude"], pretti["longitude"], pretti["geo_precision"]) == ("44.9558", "-93.2779", "2")
    assert pretti["location"] == entry["location"]["name"] == "Minneapolis"  # its own place, the incident's coordinates
    assert (pretti["disputed"], pretti["status"], pretti["rank"]) == ("false", "active", "preferred")
    assert pretti["edtf"] == "2026-01-24"

    noem = cells["noem-weapon-claim"]
    assert (noem["actor"], noem["disputed"], noem["date_precision"]) == ("Kristi Noem", "true", "2")
    assert noem["disputed_by"].split("; ") == by_id(found, "noem-weapon-claim")["disputed_by"]
    assert len(noem["disputed_by"].split("; ")) == 4


def test_notes_are_the_headline_and_the_text_on_one_line():
    found, locations = sample()
    entry = by_id(found, "pretti-shot")
    entry["headline"], entry["text"] = "Shot\r\ndead", "At 26th St\nand\u2028Nicollet\t Ave.  "
    assert read_csv(to_csv([entry], locations))[0]["notes"] == "Shot dead — At 26th St and Nicollet Ave."
    entry["text"] = None
    assert read_csv(to_csv([entry], locations))[0]["notes"] == "Shot dead"


def test_an_actor_id_gets_its_own_column():
    found, locations = sample()
    entry = {**by_id(found, "noem-weapon-claim"), "attributed_to_actor": "actor:kristi-noem"}
    (cells,) = read_csv(to_csv([entry], locations))
    assert (cells["actor"], cells["actor_id"]) == ("Kristi Noem", "actor:kristi-noem")


# -- precision codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edtf", "precision", "code"),
    [
        ("2026-01-24", "day", 1),
        ("2026-01-24T14:30:00Z", "time", 1),
        ("2026-01-24/2026-01-24", "interval", 1),
        ("2026-01-24~", "day", 2),
        ("2026-01-24?", "day", 2),
        ("2026-01-31/2026-02-01", "interval", 2),
        ("2026-01-26/2026-02-01", "interval", 2),  # 7 days
        ("2026-01-26/2026-02-02", "interval", 3),  # 8 days
        ("[2026-01-24,2026-01-25]", "set", 2),
        ("2026-01-3X", "month", 2),  # Jan 30 or 31
        ("2026-01-2X", "month", 3),
        ("2026-01", "month", 3),
        ("2026-01-21/2026-01-31", "interval", 3),
        ("2025-24", "season", 3),
        ("2026-21", "season", 3),
        ("2025", "year", 3),
        ("202X", "decade", 3),
        ("2026-01-26/..", "interval", 3),
        ("../2026-01-26", "interval", 3),
    ],
)
def test_date_precision_codes(edtf, precision, code):
    (entry,) = dated(edtf)
    assert entry["occurred"]["precision"] == precision
    (cells,) = read_csv(to_csv([entry], {}))
    assert cells["date_precision"] == str(code)
    assert cells["event_date"] == cells["earliest"] == entry["occurred"]["earliest"]
    assert (cells["latest"], cells["edtf"]) == (entry["occurred"]["latest"], edtf)


def test_an_occurred_the_service_cannot_read_leaves_the_dates_empty():
    (entry,) = dated("sometime in 2026")  # stored by an older version that checked less
    assert entry["occurred"] == {"edtf": "sometime in 2026"}
    assert date_precision(entry["occurred"]) is None
    (cells,) = read_csv(to_csv([entry], {}))
    assert (cells["event_date"], cells["date_precision"], cells["earliest"], cells["latest"]) == ("", "", "", "")
    assert cells["edtf"] == "sometime in 2026"
    assert read_parquet(to_parquet([entry], {})).to_pylist()[0]["event_date"] is None


def test_the_sample_holds_every_date_precision_code():
    found, locations = sample()
    codes = {entry["assertion_id"]: export_row(entry, locations)["date_precision"] for entry in found}
    assert codes["pretti-shot"] == 1  # 2026-01-24
    assert codes["noem-weapon-claim"] == 2  # 2026-01-24~
    assert codes["officers-identified"] == 2  # over the weekend
    assert codes["cbp-review-resisted-arrest"] == 2  # last week
    assert codes["good-shot"] == 3  # last month
    assert codes["biden-2022-order"] == 3  # 2022
    assert codes["homan-replaces-bovino"] == 3  # 2026-01-24/2026-02-02


MINNEAPOLIS = {"name": "Minneapolis, Minnesota", "lat": 44.9778, "lon": -93.265}


@pytest.mark.parametrize(
    ("own", "incident", "expected"),
    [
        ({"name": "26th & Nicollet", "lat": 44.9558, "lon": -93.2779}, MINNEAPOLIS, (44.9558, -93.2779, 1)),
        ({"name": "26th & Nicollet", "lat": 44.9558, "lon": -93.2779}, None, (44.9558, -93.2779, 1)),
        ({"name": "26th & Nicollet"}, MINNEAPOLIS, (44.9778, -93.265, 2)),
        ({"name": "26th & Nicollet", "lat": 44.9558, "lon": None}, MINNEAPOLIS, (44.9778, -93.265, 2)),
        (None, MINNEAPOLIS, (44.9778, -93.265, 2)),
        ({"name": "26th & Nicollet"}, {"name": "Minneapolis"}, (None, None, 3)),
        ({"name": "26th & Nicollet"}, None, (None, None, 3)),
        (None, {"name": "Minneapolis"}, (None, None, 3)),
        (None, None, (None, None, None)),
        ({"name": "Equator", "lat": 0.0, "lon": 0.0}, None, (0.0, 0.0, 1)),
    ],
)
def test_geo_precision(own, incident, expected):
    found, _ = sample()
    entry = {**by_id(found, "pretti-shot"), "location": own}
    typed = export_row(entry, {"alex-pretti-shooting": incident})
    assert (typed["latitude"], typed["longitude"], typed["geo_precision"]) == expected
    assert typed["location"] == ((own or {}).get("name") or (incident or {}).get("name"))
    (cells,) = read_csv(to_csv([entry], {"alex-pretti-shooting": incident}))
    assert cells["geo_precision"] == csv_text(expected[2])


def test_an_incident_missing_from_the_locations_counts_as_having_none():
    found, _ = sample()
    typed = export_row({**by_id(found, "pretti-shot"), "location": None}, {})
    assert (typed["latitude"], typed["geo_precision"], typed["location"]) == (None, None, None)


# -- formula injection --------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_triggers_get_a_leading_apostrophe(trigger):
    assert formula_safe(f"{trigger}SUM(A1:A9)") == f"'{trigger}SUM(A1:A9)"


@pytest.mark.parametrize("safe", ["", "Kristi Noem", "2026-01-24", "'quoted", " =spaced", "a=b"])
def test_other_text_is_left_alone(safe):
    assert formula_safe(safe) == safe


def test_no_csv_cell_can_start_a_formula_but_numbers_stay_numbers():
    found, locations = sample()
    entry = by_id(found, "noem-weapon-claim")
    entry["headline"] = '=HYPERLINK("http://evil.example","click")'
    entry["attributed_to"] = "+1 555 0100"
    entry["attributed_to_actor"] = "@actor"
    entry["sources"] = [{"outlet": "-Sky News"}, {"outlet": "CNN"}]
    entry["disputed_by"] = ["=x", "y"]
    (cells,) = read_csv(to_csv([entry], locations))
    assert cells["notes"].startswith("'=HYPERLINK(")
    assert (cells["actor"], cells["actor_id"]) == ("'+1 555 0100", "'@actor")
    assert (cells["sources"], cells["disputed_by"]) == ("'-Sky News; CNN", "'=x; y")
    assert cells["longitude"] == "-93.2779"  # a number is not text a spreadsheet could run
    for cells in read_csv(to_csv(sample()[0], locations)):
        text = {k: v for k, v in cells.items() if k not in ("latitude", "longitude")}
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in text.values())


# -- GeoJSON ------------------------------------------------------------------------------------


def assert_rfc7946(collection: dict[str, Any]) -> None:
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection  # RFC 7946 §4: always WGS 84, never stated
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert set(feature) >= {"type", "geometry", "properties"}
        assert isinstance(feature["id"], str)
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert (lon, lat) == (feature["properties"]["longitude"], feature["properties"]["latitude"])


def test_geojson_is_an_rfc_7946_feature_collection_of_the_sample():
    found, locations = sample()
    collection = json.loads(to_geojson(found, locations))
    assert_rfc7946(collection)
    assert collection["omitted"] == 0 and len(collection["features"]) == 52
    pretti = next(f for f in collection["features"] if f["properties"]["event_id"] == "pretti-shot")
    assert pretti["geometry"]["coordinates"] == [-93.2779, 44.9558]  # [lon, lat]
    assert pretti["id"] == "alex-pretti-shooting/pretti-shot"
    for entry, feature in zip(found, collection["features"]):
        assert feature["properties"] == {
            name: json_value(value) for name, value in export_row(entry, locations).items()
        }


def test_geojson_properties_are_typed():
    found, locations = sample()
    properties = json.loads(to_geojson(found, locations))["features"][0]["properties"]
    assert list(properties) == list(COLUMNS)
    assert isinstance(properties["date_precision"], int) and isinstance(properties["source_count"], int)
    assert isinstance(properties["latitude"], float) and isinstance(properties["disputed"], bool)
    assert isinstance(properties["sources"], list) and properties["actor_id"] is None


def test_geojson_leaves_out_entries_without_coordinates_and_counts_them():
    found, locations = sample()
    by_id(found, "pretti-shot")["location"] = {"name": "26th & Nicollet", "lat": 44.9558, "lon": -93.2779}
    collection = json.loads(to_geojson(found, {}))  # no incident locations: only pretti-shot has its own
    assert_rfc7946(collection)
    assert [f["properties"]["event_id"] for f in collection["features"]] == ["pretti-shot"]
    assert collection["features"][0]["properties"]["geo_precision"] == 1
    assert collection["omitted"] == 51


# -- Parquet ------------------------------------------------------------------------------------


def test_parquet_reads_back_to_the_same_rows_and_types():
    found, locations = sample()
    table = read_parquet(to_parquet(found, locations))
    assert table.schema.remove_metadata() == SCHEMA
    assert table.schema.field("event_date").type == pa.date32()
    assert table.schema.field("date_precision").type == pa.int8()
    assert table.schema.field("disputed").type == pa.bool_()
    assert table.schema.field("sources").type == pa.list_(pa.string())
    assert table.to_pylist() == [export_row(entry, locations) for entry in found]


def test_parquet_metadata_holds_nothing_that_varies():
    found, locations = sample()
    metadata = pq.ParquetFile(pa.BufferReader(to_parquet(found, locations))).metadata
    assert set(metadata.metadata) == {b"ARROW:schema"}  # no pandas block, no time
    assert metadata.created_by.startswith("parquet-cpp-arrow version ")
    assert metadata.num_row_groups == 1


# -- every format -------------------------------------------------------------------------------


@pytest.mark.parametrize("render", RENDERERS)
def test_same_input_same_bytes(render):
    found, locations = sample()
    first = render(found, locations)
    reordered = [dict(reversed(copy.deepcopy(entry).items())) for entry in found]
    assert render(found, locations) == first
    assert render(reordered, dict(reversed(locations.items()))) == first
    assert render(iter(found), locations) == first


def test_a_lone_surrogate_an_older_version_let_in_becomes_a_question_mark_everywhere():
    found, locations = sample()
    entry = by_id(found, "pretti-shot")
    entry["headline"], entry["sources"] = "Shot \ud800 dead", [{"outlet": "CNN\udfff"}]
    entry["text"] = None
    assert read_csv(to_csv([entry], locations))[0]["notes"] == "Shot ? dead"
    properties = json.loads(to_geojson([entry], locations))["features"][0]["properties"]
    assert (properties["notes"], properties["sources"]) == ("Shot ? dead", ["CNN?"])
    (parquet,) = read_parquet(to_parquet([entry], locations)).to_pylist()
    assert (parquet["notes"], parquet["sources"]) == ("Shot ? dead", ["CNN?"])


def test_no_entries():
    assert read_csv(to_csv([], {})) == []
    assert to_csv([], {}).decode() == ",".join(COLUMNS) + "\r\n"
    assert json.loads(to_geojson([], {})) == {"type": "FeatureCollection", "features": [], "omitted": 0}
    table = read_parquet(to_parquet([], {}))
    assert table.num_rows == 0 and table.schema.remove_metadata() == SCHEMA


def test_formats_name_their_media_type_extension_and_renderer():
    found, locations = sample()
    assert set(FORMATS) == {"csv", "geojson", "parquet"}
    assert FORMATS["csv"].media_type.startswith("text/csv; charset=utf-8")
    assert FORMATS["geojson"].media_type == "application/geo+json"
    assert FORMATS["parquet"].media_type == "application/vnd.apache.parquet"
    assert [f.extension for f in FORMATS.values()] == ["csv", "geojson", "parquet"]
    assert FORMATS["parquet"].render(found, locations)[:4] == b"PAR1"


def test_the_module_is_pure():
    allowed = {"__future__", "base64", "csv", "hashlib", "io", "json", "pyarrow", "pyarrow.parquet"}
    allowed |= {"collections.abc", "dataclasses", "datetime", "typing"}
    tree = ast.parse(Path(analyst_exports.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= allowed | {"events.dates"}, imported - allowed


# -- Content-Digest -----------------------------------------------------------------------------


def test_content_digest_known_vectors():
    # SHA-256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
    assert content_digest(b"hello") == "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:"
    # RFC 9530 §2's example
    assert content_digest(b'{"hello": "world"}') == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert content_digest(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"


@given(st.binary(min_size=1, max_size=256), st.data())
def test_any_changed_byte_changes_the_digest(body, data):
    at = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = body[:at] + bytes([body[at] ^ flip]) + body[at + 1 :]
    assert content_digest(changed) != content_digest(body)


# -- generated entries --------------------------------------------------------------------------

EDTF = ["2026-01-24", "2026-01-24~", "2026-01-26/2026-02-01", "2026-01", "2025-24", "2025", "2026-01-26/.."]
OCCURRED = [parse_occurred(text).as_dict() for text in EDTF] + [{"edtf": "not a date"}]
INCIDENTS = ["alex-pretti-shooting", "renee-good-shooting", "chicago-body-camera-order"]

texts = st.text(max_size=40)
names = st.text(min_size=1, max_size=30).filter(str.strip)
slugs = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
locations = st.none() | st.fixed_dictionaries(
    {"name": names},
    optional={"lat": st.floats(-90, 90) | st.none(), "lon": st.floats(-180, 180) | st.none()},
)
times = st.datetimes(timezones=st.just(timezone.utc)).map(lambda t: t.isoformat().replace("+00:00", "Z"))


@st.composite
def generated_entries(draw):
    entry = {
        "incident_id": draw(st.sampled_from(INCIDENTS)),
        "assertion_id": draw(slugs),
        "kind": draw(st.sampled_from(["shooting", "death", "official_statement", "other"])),
        "occurred": draw(st.sampled_from(OCCURRED)),
        "headline": draw(names),
        "text": draw(st.none() | texts),
        "attributed_to": draw(st.none() | names),
        "actors": [],
        "location": draw(locations),
        "sources": draw(st.lists(st.fixed_dictionaries({"outlet": names}), min_size=1, max_size=4)),
        "status": draw(st.sampled_from(["active", "retracted"])),
        "rank": draw(st.sampled_from(["preferred", "normal", "deprecated"])),
        "disputes": [],
        "disputed_by": draw(st.lists(slugs, max_size=3)),
        "first_reported_at": draw(times),
        "recorded_at": draw(times),
    }
    if draw(st.booleans()):
        entry["attributed_to_actor"] = draw(slugs)
    return entry


batches = st.tuples(
    st.lists(generated_entries(), max_size=8),
    st.fixed_dictionaries({incident: locations for incident in INCIDENTS}),
)


@settings(max_examples=examples(60), deadline=None)
@given(batches)
def test_generated_entries_round_trip_through_every_format(batch):
    found, incident_locations = batch
    rows = [export_row(entry, incident_locations) for entry in found]
    assert read_csv(to_csv(found, incident_locations)) == [{k: csv_text(v) for k, v in r.items()} for r in rows]
    assert read_parquet(to_parquet(found, incident_locations)).to_pylist() == rows
    collection = json.loads(to_geojson(found, incident_locations))
    assert_rfc7946(collection)
    located = [{k: json_value(v) for k, v in r.items()} for r in rows if r["latitude"] is not None]
    assert [feature["properties"] for feature in collection["features"]] == located
    assert collection["omitted"] == len(rows) - len(located)


@settings(max_examples=examples(30), deadline=None)
@given(batches, st.randoms(use_true_random=False))
def test_generated_entries_render_to_the_same_bytes_every_time(batch, random):
    found, incident_locations = batch
    for render in RENDERERS:
        first = render(found, incident_locations)
        shuffled_keys = [dict(random.sample(list(copy.deepcopy(e).items()), len(e))) for e in found]
        assert render(shuffled_keys, incident_locations) == first


@settings(max_examples=examples(20), deadline=None)
@given(st.permutations(range(52)))
def test_any_order_of_the_sample_round_trips_in_that_order(order):
    found, locations = sample()
    shuffled = [found[i] for i in order]
    assert [c["event_id"] for c in read_csv(to_csv(shuffled, locations))] == [e["assertion_id"] for e in shuffled]
    table = read_parquet(to_parquet(shuffled, locations))
    assert table.to_pylist() == [export_row(entry, locations) for entry in shuffled]
    assert to_parquet(shuffled, locations) == to_parquet([found[i] for i in order], locations)
