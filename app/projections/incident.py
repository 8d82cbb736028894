"""The incident's own fields, folded from its incident-level events. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def empty_incident(incident_id: str) -> dict[str, Any]:
    return {"id": incident_id, "title": None, "summary": None, "location": None, "tags": [], "links": []}


def apply_incident_event(incident: dict[str, Any], event_type: str, data: Mapping[str, Any]) -> bool:
    """Apply one event to the incident's fields in place; False if it is not an incident-level event."""
    if event_type == "IncidentOpened":
        incident.update(
            title=data.get("title"),
            summary=data.get("summary"),
            location=data.get("location"),
            tags=list(data.get("tags", [])),
        )
    elif event_type == "IncidentRevised":
        for name in ("title", "summary", "location", "tags"):
            if name in data:
                incident[name] = list(data[name] or []) if name == "tags" else data[name]
    elif event_type == "IncidentsLinked":
        link = {"incident_id": data.get("related_incident_id"), "relation": data.get("relation")}
        if link not in incident["links"]:
            incident["links"] = [*incident["links"], link]
    else:
        return False
    return True


def fold_incident(incident_id: str, events: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    incident = empty_incident(incident_id)
    for event_type, data in events:
        apply_incident_event(incident, event_type, data)
    return incident
