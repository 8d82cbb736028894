"""A timeline in the formats its users already work with: JSON, TimelineJS, CSV and NDJSON."""

from __future__ import annotations

import csv
import html
import io
from datetime import date
from typing import Any

from fastapi.responses import Response

from app.api.responses import JSONResponse, dumps

CSV_COLUMNS = [
    "assertion_id",
    "kind",
    "occurred",
    "earliest",
    "latest",
    "precision",
    "display",
    "headline",
    "text",
    "attributed_to",
    "actors",
    "outlets",
    "corroboration",
    "status",
    "retraction_reason",
    "rank",
    "disputes",
    "disputed_by",
    "revisions",
    "first_reported_at",
    "recorded_at",
]


def render_export(body: dict[str, Any], format: str, headers: dict[str, str]) -> Response:
    if format == "timelinejs":
        return JSONResponse(to_timelinejs(body), headers=headers)
    if format == "csv":
        name = f"{body['incident']['id']}-timeline.csv"
        return Response(
            # "replace": a lone surrogate an older version let in must not fail the whole file
            to_csv(body["entries"]).encode("utf-8", "replace"),
            media_type="text/csv; charset=utf-8",
            headers={**headers, "Content-Disposition": f'attachment; filename="{name}"'},
        )
    if format == "ndjson":
        lines = b"".join(dumps(entry) + b"\n" for entry in body["entries"])
        return Response(lines, media_type="application/x-ndjson", headers=headers)
    return JSONResponse(body, headers=headers)


def csv_row(entry: dict[str, Any]) -> dict[str, str]:
    occurred = entry["occurred"]
    return {
        "assertion_id": entry["assertion_id"],
        "kind": entry["kind"],
        "occurred": occurred["edtf"],
        "earliest": occurred.get("earliest", ""),
        "latest": occurred.get("latest", ""),
        "precision": occurred.get("precision", ""),
        "display": occurred.get("display", ""),
        "headline": entry["headline"],
        "text": entry["text"] or "",
        "attributed_to": entry["attributed_to"] or "",
        "actors": "; ".join(entry["actors"]),
        "outlets": "; ".join(source["outlet"] for source in entry["sources"]),
        "corroboration": str(entry["corroboration"]),
        "status": entry["status"],
        "retraction_reason": (entry["retraction"] or {}).get("reason", ""),
        "rank": entry["rank"],
        "disputes": "; ".join(entry["disputes"]),
        "disputed_by": "; ".join(entry["disputed_by"]),
        "revisions": str(entry["revisions"]["count"]),
        "first_reported_at": entry["first_reported_at"],
        "recorded_at": entry["recorded_at"],
    }


def to_csv(entries: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(csv_row(entry))
    return out.getvalue()


def _tl_date(day: str) -> dict[str, str]:
    parsed = date.fromisoformat(day)
    return {"year": str(parsed.year), "month": str(parsed.month), "day": str(parsed.day)}


def _tl_headline(entry: dict[str, Any]) -> str:
    headline = html.escape(entry["headline"])
    return f"<s>{headline}</s> (retracted)" if entry["status"] == "retracted" else headline


def _tl_text(entry: dict[str, Any], headlines: dict[str, str]) -> str:
    parts = []
    if entry["text"]:
        parts.append(f"<p>{html.escape(entry['text'])}</p>")
    if entry["attributed_to"]:
        parts.append(f"<p><em>According to {html.escape(entry['attributed_to'])}</em></p>")
    if entry["status"] == "retracted":
        parts.append(f"<p><strong>Retracted:</strong> {html.escape(entry['retraction']['reason'])}</p>")
    # Contradictions both ways, named by headline (an assertion id means nothing to a reader).
    for label, ids in (("Disputed by", entry["disputed_by"]), ("Disputes", entry["disputes"])):
        if ids:
            named = "; ".join(f"“{html.escape(headlines.get(other, other))}”" for other in ids)
            parts.append(f"<p><strong>{label}:</strong> {named}</p>")
    outlets = []
    for source in entry["sources"]:
        name = html.escape(source["outlet"])
        outlets.append(f'<a href="{html.escape(source["url"])}">{name}</a>' if source.get("url") else name)
    parts.append(f"<p>Sources: {', '.join(outlets)}</p>")
    return "".join(parts)


def to_timelinejs(body: dict[str, Any]) -> dict[str, Any]:
    """The Knight Lab TimelineJS JSON format: one slide per entry, placed at its earliest date,
    spanning to its latest, with the original wording of the date in display_date."""
    incident = body["incident"]
    headlines = {entry["assertion_id"]: entry["headline"] for entry in body["entries"]}
    slides = []
    for entry in body["entries"]:
        occurred = entry["occurred"]
        if "earliest" not in occurred:
            continue
        slide = {
            "unique_id": entry["assertion_id"],
            "start_date": _tl_date(occurred["earliest"]),
            "display_date": occurred["display"],
            "text": {"headline": _tl_headline(entry), "text": _tl_text(entry, headlines)},
            "group": entry["kind"].replace("_", " ").capitalize(),
        }
        if occurred["latest"] != occurred["earliest"]:
            slide["end_date"] = _tl_date(occurred["latest"])
        slides.append(slide)
    return {
        "title": {
            "text": {
                "headline": html.escape(incident.get("title") or incident["id"]),
                "text": f"<p>{html.escape(incident.get('summary') or '')}</p>",
            }
        },
        "events": slides,
    }
