"""How stored things leave the service: plain JSON-ready dicts, times in RFC 3339 UTC."""

from __future__ import annotations

from typing import Any

from app.store import AppendResult, StoredEvent
from events.catalog import to_json_time


def envelope(event: StoredEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "incident_id": event.incident_id,
        "version": event.version,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "reported_at": to_json_time(event.reported_at),
        "recorded_at": to_json_time(event.recorded_at),
    }


def append_result(result: AppendResult) -> dict[str, Any]:
    return {
        "incident_id": result.incident_id,
        "version": result.version,
        "positions": result.positions,
        "recorded_at": to_json_time(result.recorded_at),
    }
