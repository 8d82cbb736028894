"""Stored events as CloudEvents 1.0 structured JSON bodies.

Attributes of every delivery (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md):

- `specversion` "1.0"; `id` = the event id (the same on every retry and replay);
- `source` = `<base source>/v1/incidents/<incident_id>` (a URI reference; the base is the
  service's public URL or empty), or `<base source>/v1/actors` for the actors registry's events;
- `type` = `org.incident-timeline.<EventType>.v<schema_version>`, e.g.
  `org.incident-timeline.AssertionRecorded.v1` — the schema version is part of the type because a
  new version changes the shape of `data`;
- `subject` = the incident id; `time` = `recorded_at` (RFC 3339, UTC, `Z`);
- `datacontenttype` "application/json"; `data` = the event's data as stored (JSON object);
- extensions: `incidentversion` (int, the event's version in its incident stream: receivers
  order and deduplicate per incident with it), `position` (int, global log position: the value to
  replay from), `treesize` (int, the size of the log's Merkle tree once this event was added to it:
  any checkpoint at or past it proves the event, `GET /v1/events/<position>/proof?size=<checkpoint
  size>`), `reportedat` (RFC 3339, when the information became public), and
  `correlationid` / `causationid` when the event's metadata has them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from events.actors import ACTORS_STREAM
from events.published import Published

__all__ = ["CONTENT_TYPE", "TYPE_PREFIX", "cloudevent_type", "rfc3339", "to_cloudevent"]

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
TYPE_PREFIX = "org.incident-timeline."


def cloudevent_type(event_type: str, schema_version: int) -> str:
    return f"{TYPE_PREFIX}{event_type}.v{int(schema_version)}"


def rfc3339(value: datetime | str) -> str:
    """An aware datetime (or ISO 8601 string with offset) as RFC 3339 UTC with a `Z`."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a CloudEvent time must be timezone-aware, not {value!r}")
    text = value.astimezone(timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def to_cloudevent(event: Mapping[str, Any], *, source: str) -> str:
    """The structured-mode JSON body for one stored event; send it as UTF-8 with `CONTENT_TYPE`.

    The output is deterministic for a given event, so every retry signs and sends the same bytes.
    It is ASCII-only (`ensure_ascii`), which keeps odd text in `data` from making a body that
    cannot be encoded.
    """
    incident_id = str(event["incident_id"])
    about = "/v1/actors" if incident_id == ACTORS_STREAM else f"/v1/incidents/{incident_id}"
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(event["event_id"]),
        "source": source.rstrip("/") + about,
        "type": cloudevent_type(str(event["type"]), event["schema_version"]),
        "subject": incident_id,
        "time": rfc3339(event["recorded_at"]),
        "datacontenttype": "application/json",
        "incidentversion": int(event["version"]),
        "position": int(event["position"]),
        "treesize": int(event["position"]),  # leaf index = position - 1 (RFC 9162 over the positions)
    }
    if event.get("reported_day") is not None:  # known only to the day: the day, as the report gave it
        attributes["reportedat"] = Published(event["reported_at"], event["reported_day"]).text()
    elif event.get("reported_at") is not None:
        attributes["reportedat"] = rfc3339(event["reported_at"])
    metadata = event.get("metadata") or {}
    for key, name in (("correlation_id", "correlationid"), ("causation_id", "causationid")):
        if metadata.get(key) not in (None, ""):
            attributes[name] = str(metadata[key])
    attributes["data"] = event["data"]
    return json.dumps(attributes, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
