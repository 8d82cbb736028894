"""Assertions across incidents as analysts' files: CSV, GeoJSON and Parquet. Pure: bytes in memory.

The input is what `GET /v1/assertions` returns: rendered timeline entries, each with its
`incident_id` and `attributed_to_actor` (the actor `attributed_to` resolves to: the `actor_id`
column), in the order they are to appear; `incident_locations` maps an incident to its own
location, the fallback for entries that name none.

All three formats carry one row per entry with the columns of `COLUMNS`, first those ACLED's
users know, then a few of our own. The same input always gives the same bytes, whatever the
key order of the dicts it is made of.

- `date_precision` follows ACLED's `time_precision`, read from the `occurred` bounds: 1 when they
  are one day and the day is neither approximate nor uncertain (`2026-01-24`, a time of day);
  2 when they span at most 7 days, or are one qualified day (`2026-01-24~`, `2026-01-26/2026-02-01`,
  `2026-01-3X`); 3 for anything wider: a month, a season, a year, a longer or open interval.
  Empty when the EDTF could not be read.
- `geo_precision` follows ACLED's: 1 when the entry's own location has coordinates, 2 when the
  incident's location supplies them, 3 when there is a place name (the entry's or the incident's)
  but no coordinates, empty when there is no location at all. `location` names the entry's place,
  else the incident's.
- `event_date` is `earliest`: for an interval open at the start that is 0001-01-01, as the bounds say.
- `event_id` is the assertion id, unique within its incident: (`incident`, `event_id`) is the key.
- `sources` and `disputed_by` are lists in GeoJSON and Parquet (`list<string>`), joined with "; "
  in CSV.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

Entry = Mapping[str, Any]
Location = Mapping[str, Any]
IncidentLocations = Mapping[str, Location | None]

SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_date", pa.date32()),
        ("date_precision", pa.int8()),
        ("incident", pa.string()),
        ("kind", pa.string()),
        ("actor", pa.string()),
        ("actor_id", pa.string()),
        ("sources", pa.list_(pa.string())),
        ("source_count", pa.int32()),
        ("notes", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("geo_precision", pa.int8()),
        ("disputed", pa.bool_()),
        ("status", pa.string()),
        ("edtf", pa.string()),
        ("earliest", pa.date32()),
        ("latest", pa.date32()),
        ("location", pa.string()),
        ("disputed_by", pa.list_(pa.string())),
        ("rank", pa.string()),
        ("first_reported_at", pa.string()),
        ("recorded_at", pa.string()),
    ]
)
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DAY_SPAN = 7  # ACLED's code 2: "a week or a few days"


def formula_safe(cell: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def date_precision(occurred: Mapping[str, Any]) -> int | None:
    earliest, latest = _day(occurred.get("earliest")), _day(occurred.get("latest"))
    if earliest is None or latest is None:
        return None
    days = (latest - earliest).days + 1
    if days == 1 and not (occurred.get("approximate") or occurred.get("uncertain")):
        return 1
    return 2 if days <= DAY_SPAN else 3


def export_row(entry: Entry, incident_locations: IncidentLocations) -> dict[str, Any]:
    """One entry as typed values (str, int, float, bool, date, list[str] or None), in `COLUMNS` order."""
    occurred = entry["occurred"]
    earliest = _day(occurred.get("earliest"))
    own = entry.get("location")
    incident = incident_locations.get(entry["incident_id"])
    place, latitude, longitude, geo_precision = _geo(own, incident)
    return {
        "event_id": entry["assertion_id"],
        "event_date": earliest,
        "date_precision": date_precision(occurred),
        "incident": entry["incident_id"],
        "kind": entry["kind"],
        "actor": entry.get("attributed_to") or None,
        "actor_id": entry.get("attributed_to_actor") or None,
        "sources": [source["outlet"] for source in entry["sources"]],
        "source_count": len(entry["sources"]),
        "notes": _one_line(entry["headline"], entry.get("text")),
        "latitude": latitude,
        "longitude": longitude,
        "geo_precision": geo_precision,
        "disputed": bool(entry.get("disputed_by")),
        "status": entry["status"],
        "edtf": occurred["edtf"],
        "earliest": earliest,
        "latest": _day(occurred.get("latest")),
        "location": place,
        "disputed_by": list(entry.get("disputed_by") or ()),
        "rank": entry["rank"],
        "first_reported_at": entry.get("first_reported_at"),
        "recorded_at": entry.get("recorded_at"),
    }


def to_csv(entries: Iterable[Entry], incident_locations: IncidentLocations) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(_csv_cell(value) for value in export_row(entry, incident_locations).values())
    # "replace": a lone surrogate an older version let in must not fail the whole file
    return out.getvalue().encode("utf-8", "replace")


def to_geojson(entries: Iterable[Entry], incident_locations: IncidentLocations) -> bytes:
    """An RFC 7946 FeatureCollection of the entries with coordinates; `omitted` counts the others."""
    features, omitted = [], 0
    for entry in entries:
        properties = export_row(entry, incident_locations)
        if properties["latitude"] is None:
            omitted += 1
            continue
        features.append(
            {
                "type": "Feature",
                "id": f"{properties['incident']}/{properties['event_id']}",
                "geometry": {"type": "Point", "coordinates": [properties["longitude"], properties["latitude"]]},
                "properties": {name: _json_value(value) for name, value in properties.items()},
            }
        )
    collection = {"type": "FeatureCollection", "features": features, "omitted": omitted}
    text = json.dumps(collection, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8", "replace")


def to_parquet(entries: Iterable[Entry], incident_locations: IncidentLocations) -> bytes:
    """Parquet with `SCHEMA`'s types. Every writer option is fixed, so equal input gives equal bytes;
    the file's metadata names the pyarrow version (`created_by`) and holds no time."""
    rows = [export_row(entry, incident_locations) for entry in entries]
    try:
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
    except UnicodeEncodeError:  # a lone surrogate an older version let in: "?", as in the other formats
        table = pa.Table.from_pylist([{k: _encodable(v) for k, v in r.items()} for r in rows], schema=SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        version="2.6",
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        data_page_version="1.0",
        row_group_size=1_000_000,
        store_schema=True,
        write_page_index=False,
        write_page_checksum=False,
    )
    return bytes(sink.getvalue())


def content_digest(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value for `body`: `sha-256=:<base64>:`.

    Written by hand rather than with `http-sf`: the field is a one-member Dictionary whose key is a
    fixed token and whose value is a Byte Sequence, and RFC 8941 serialises a Byte Sequence as
    standard padded base64 between colons, which is exactly this line.
    """
    return f"sha-256=:{base64.standard_b64encode(hashlib.sha256(body).digest()).decode('ascii')}:"


@dataclass(frozen=True, slots=True)
class ExportFormat:
    media_type: str
    extension: str
    render: Callable[[Iterable[Entry], IncidentLocations], bytes]


FORMATS: Mapping[str, ExportFormat] = {
    "csv": ExportFormat("text/csv; charset=utf-8; header=present", "csv", to_csv),
    "geojson": ExportFormat("application/geo+json", "geojson", to_geojson),
    "parquet": ExportFormat("application/vnd.apache.parquet", "parquet", to_parquet),
}


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def _has_coordinates(location: Location | None) -> bool:
    return location is not None and location.get("lat") is not None and location.get("lon") is not None


def _geo(own: Location | None, incident: Location | None) -> tuple[str | None, float | None, float | None, int | None]:
    place = (own or {}).get("name") or (incident or {}).get("name") or None
    for located, code in ((own, 1), (incident, 2)):
        if located is not None and _has_coordinates(located):
            return place, float(located["lat"]), float(located["lon"]), code
    return place, None, None, (3 if place else None)


def _one_line(headline: str, text: str | None) -> str:
    parts = (" ".join(part.split()) for part in (headline, text or ""))
    return " — ".join(part for part in parts if part)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return formula_safe("; ".join(value))
    return formula_safe(str(value))


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    return value


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
