"""How stored things leave the service: plain JSON-ready dicts, times in RFC 3339 UTC."""

from __future__ import annotations

from typing import Any

from app.store import AppendResult, StoredEvent
from events.admissible import TIME_RANGE, ClampedTime
from events.catalog import to_json_time


def envelope(event: StoredEvent) -> dict[str, Any]:
    rendered = {
        "position": event.position,
        "incident_id": event.incident_id,
        "version": event.version,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "reported_at": event.published.text(),
        "recorded_at": to_json_time(event.recorded_at),
    }
    unshowable = [
        {
            "field": name,
            "stored": moment.stored,
            "message": f"stored outside the times the service can show ({TIME_RANGE}); shown at the nearest end",
        }
        for name, moment in (("reported_at", event.reported_at), ("recorded_at", event.recorded_at))
        if isinstance(moment, ClampedTime)
    ]
    if unshowable:
        rendered["unreadable"] = unshowable
    return rendered


def append_result(result: AppendResult) -> dict[str, Any]:
    return {
        "incident_id": result.incident_id,
        "version": result.version,
        "positions": result.positions,
        "recorded_at": to_json_time(result.recorded_at),
    }
