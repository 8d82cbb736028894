"""Incidents and their event streams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from app import commands
from app.api.deps import JsonBody, Reader, StoreDep, Writer
from app.api.problems import documented
from app.api.responses import JSONResponse
from app.api.schemas import AppendIn, AppendOut, IncidentIn, IncidentList, IncidentOut, OpenedOut, StreamPage
from app.api.serialize import append_result, envelope
from app.projections.incident import apply_incident_event, empty_incident
from app.store import IncidentNotFound
from events.admissible import MAX_INT
from events.catalog import to_json_time

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], responses=documented(401, 403, 422))

WRITE = documented(400, 413, 415)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
INCIDENT_EVENTS = ("IncidentOpened", "IncidentRevised", "IncidentsLinked")


def _incident_or_404(store, incident_id: str) -> int:
    version = store.incident_version(incident_id)
    if version is None:
        raise IncidentNotFound(incident_id)
    return version


@router.post(
    "", status_code=201, dependencies=[JsonBody], responses={201: {"model": OpenedOut}, **WRITE, **documented(409)}
)
def open_incident(
    body: IncidentIn, request: Request, key: Writer, store: StoreDep, idempotency_key: IdempotencyKey = None
):
    """Open an incident: its stream starts with IncidentOpened."""
    data = body.model_dump(exclude={"id", "reported_at"}, exclude_unset=True)
    result = commands.open_incident(
        store,
        body.id,
        data,
        actor=key.name,
        reported_at=body.reported_at,
        idempotency_key=idempotency_key,
        idempotency_scope=key.id,
    )
    request.app.state.appended.notify(result.incident_id, result.version)
    return JSONResponse(
        {"id": body.id, **append_result(result)},
        status_code=201,
        headers={"Location": f"/v1/incidents/{body.id}"},
    )


@router.get("", responses={200: {"model": IncidentList}})
def list_incidents(_: Reader, store: StoreDep):
    """Every incident with its title, version and opening time."""
    incidents: dict[str, dict] = {}
    for event in store.read_types(INCIDENT_EVENTS):
        incident = incidents.setdefault(event.incident_id, empty_incident(event.incident_id))
        apply_incident_event(incident, event.type, event.data)
    listed = []
    for incident_id, version, opened_at in store.list_streams():
        incident = incidents.get(incident_id, empty_incident(incident_id))
        listed.append(
            {
                "id": incident_id,
                "title": incident["title"],
                "version": version,
                "opened_at": to_json_time(opened_at),
                "tags": incident["tags"],
            }
        )
    return {"incidents": listed}


@router.get("/{incident_id}", responses={200: {"model": IncidentOut}, **documented(404)})
def get_incident(incident_id: str, _: Reader, store: StoreDep):
    """One incident's own fields (title, summary, location, tags, links) and current version."""
    version = _incident_or_404(store, incident_id)
    incident = empty_incident(incident_id)
    for event in store.read_types(INCIDENT_EVENTS, incident_id=incident_id):
        apply_incident_event(incident, event.type, event.data)
    return {**incident, "version": version}


@router.post(
    "/{incident_id}/events",
    status_code=201,
    dependencies=[JsonBody],
    responses={201: {"model": AppendOut}, **WRITE, **documented(404, 409)},
)
def append_events(
    incident_id: str,
    body: AppendIn,
    request: Request,
    key: Writer,
    store: StoreDep,
    idempotency_key: IdempotencyKey = None,
):
    """Append a batch of events atomically; `expected_version` guards against lost updates."""
    batch = [
        commands.EventCommand(
            e.type, e.data, e.reported_at, e.metadata.model_dump(exclude_none=True) if e.metadata else {}
        )
        for e in body.events
    ]
    result = commands.append_events(
        store,
        incident_id,
        batch,
        actor=key.name,
        expected_version=body.expected_version,
        idempotency_key=idempotency_key,
        idempotency_scope=key.id,
    )
    request.app.state.appended.notify(result.incident_id, result.version)
    return JSONResponse(append_result(result), status_code=201)


@router.get("/{incident_id}/events", responses={200: {"model": StreamPage}, **documented(404)})
def read_stream(
    incident_id: str,
    _: Reader,
    store: StoreDep,
    after_version: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """The incident's raw events in version order, a page at a time."""
    version = _incident_or_404(store, incident_id)
    page = store.read_stream(incident_id, after_version=after_version, limit=limit)
    return {
        "incident_id": incident_id,
        "version": version,
        "events": [envelope(event) for event in page],
        "next_after_version": page[-1].version if page and page[-1].version < version else None,
    }
