"""How stored things leave the service: plain JSON-ready dicts, times in RFC 3339 UTC."""

from __future__ import annotations

from typing import Any

from app.store import AppendResult, StoredEvent
from app.store.tree import stored_record
from events.admissible import TIME_RANGE, ClampedTime
from events.catalog import to_json_time


def envelope(event: StoredEvent) -> dict[str, Any]:
    """The event as /v1/events and `timeline export` show it: the members its Merkle leaf hashes
    (app.proofs.leaves) when it is read as stored, and a note of any time that cannot be shown."""
    rendered = stored_record(event)
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
