"""Write handlers: plain functions that check a command against the catalog and the stream, then append."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.db import utcnow
from app.store import AppendResult, EventStore, NewEvent, VersionConflict
from events import catalog
from events.admissible import text_problems
from events.published import Published, parse_published
from events.catalog import InvalidEvent, Problem

# A publication time a little ahead of our clock is tolerated (clock skew between newsrooms
# and this server); one further in the future is a mistake in the request.
REPORTED_AT_SKEW = timedelta(minutes=5)


class IncidentNotFound(LookupError):
    def __init__(self, incident_id: str):
        self.incident_id = incident_id
        super().__init__(f"there is no incident {incident_id!r}")


class IncidentExists(Exception):
    def __init__(self, incident_id: str):
        self.incident_id = incident_id
        super().__init__(f"incident {incident_id!r} already exists")


@dataclass(frozen=True, slots=True)
class EventCommand:
    type: str
    data: Mapping[str, Any]
    reported_at: Published | datetime | str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def open_incident(
    store: EventStore,
    incident_id: str,
    data: Mapping[str, Any],
    *,
    actor: str,
    reported_at: Published | datetime | str | None = None,
    idempotency_key: str | None = None,
    idempotency_scope: str = "",
) -> AppendResult:
    """Open a new incident's stream with IncidentOpened."""
    try:
        validated = catalog.validate("IncidentOpened", data)
    except InvalidEvent as error:
        raise _located(error, (), strip_data=True) from None
    published = _reported(reported_at, ("reported_at",))
    event = _new_event("IncidentOpened", validated, published, {"actor": actor})
    try:
        return store.append(
            incident_id, [event], expected_version=0,
            idempotency_key=idempotency_key, idempotency_scope=idempotency_scope,
        )
    except VersionConflict:
        raise IncidentExists(incident_id) from None


def append_events(
    store: EventStore,
    incident_id: str,
    commands: Sequence[EventCommand],
    *,
    actor: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    idempotency_scope: str = "",
) -> AppendResult:
    """Validate a batch against the catalog and what the incident already holds, then append it."""
    if store.stream_version(incident_id) is None:
        raise IncidentNotFound(incident_id)
    new_events = [_validated(index, command, actor) for index, command in enumerate(commands)]
    if idempotency_key is not None:
        # A repeat must get the original answer even though the incident has moved on since
        # (its assertions now exist), so it is answered before checking references.
        earlier = store.earlier_result(
            incident_id, new_events, expected_version=expected_version,
            idempotency_key=idempotency_key, idempotency_scope=idempotency_scope,
        )
        if earlier is not None:
            return earlier
    _check_references(store, incident_id, new_events)
    return store.append(
        incident_id, new_events, expected_version=expected_version,
        idempotency_key=idempotency_key, idempotency_scope=idempotency_scope,
    )


def _validated(index: int, command: EventCommand, actor: str) -> NewEvent:
    where = ("events", index)
    if command.type == "IncidentOpened":
        raise InvalidEvent([Problem((*where, "type"), "the incident is already open; IncidentOpened comes only from POST /v1/incidents")])
    try:
        data = catalog.validate(command.type, command.data)
    except InvalidEvent as error:
        raise _located(error, where) from None
    published = _reported(command.reported_at, (*where, "reported_at"))
    metadata = {"actor": actor, **{k: v for k, v in command.metadata.items() if v is not None}}
    unstorable = [Problem((*where, "metadata", *at), message) for at, message in text_problems(metadata)]
    if unstorable:
        raise InvalidEvent(unstorable)
    return _new_event(command.type, data, published, metadata)


def _new_event(type_name: str, data: dict[str, Any], published: Published | None, metadata: dict[str, Any]) -> NewEvent:
    return NewEvent(
        type_name, data, catalog.current_version(type_name), published.moment if published else None, metadata,
        reported_day=published.day if published else None,
    )


def _check_references(store: EventStore, incident_id: str, new_events: list[NewEvent]) -> None:
    """Every assertion an event points at must be recorded in this incident, earlier or in this batch.

    Assertions are never removed, so this check needs no lock: what exists now still exists
    when the append commits. A new AssertionRecorded must not reuse an id; two concurrent
    appends could both pass that check, and the fold then keeps the first (see the timeline fold).
    """
    referencing = [e for e in new_events if e.type in catalog.ASSERTION_EVENTS]
    links = [e for e in new_events if e.type == "IncidentsLinked"]
    if not referencing and not links:
        return
    known = store.data_values(incident_id, "AssertionRecorded", "assertion_id") if referencing else set()
    problems: list[Problem] = []
    for index, event in enumerate(new_events):
        data = event.data
        if event.type == "AssertionRecorded":
            if data["assertion_id"] in known:
                problems.append(Problem(("events", index, "data", "assertion_id"), f"assertion {data['assertion_id']!r} is already recorded in this incident; revise it instead"))
            known.add(data["assertion_id"])
            continue
        for key in ("assertion_id", "by_assertion_id"):
            if key in data and event.type in catalog.ASSERTION_EVENTS and data[key] not in known:
                problems.append(Problem(("events", index, "data", key), f"no assertion {data[key]!r} is recorded in incident {incident_id!r}"))
        if event.type == "IncidentsLinked":
            related = data["related_incident_id"]
            if related == incident_id:
                problems.append(Problem(("events", index, "data", "related_incident_id"), "an incident cannot be linked to itself"))
            elif store.stream_version(related) is None:
                problems.append(Problem(("events", index, "data", "related_incident_id"), f"there is no incident {related!r}"))
    if problems:
        raise InvalidEvent(problems)


def _reported(reported_at: Published | datetime | str | None, location: tuple) -> Published | None:
    """The publication time, as a day or a time (events.published), checked: storable, and not in
    the future (a day may be today: it counts from its end, but it began before now)."""
    if reported_at is None:
        return None
    try:
        published = reported_at if isinstance(reported_at, Published) else parse_published(reported_at)
    except ValueError as error:
        raise InvalidEvent([Problem(location, f"reported_at: {error}")]) from None
    began = published.moment if published.day is None else published.moment - timedelta(days=1)
    if began > utcnow() + REPORTED_AT_SKEW:
        raise InvalidEvent([Problem(location, "reported_at lies in the future; it is when the information became public")])
    return published


def _located(error: InvalidEvent, where: tuple, *, strip_data: bool = False) -> InvalidEvent:
    def place(location: tuple) -> tuple:
        if strip_data and location[:1] == ("data",):
            location = location[1:]
        return (*where, *location)

    return InvalidEvent([Problem(place(p.location), p.message) for p in error.problems])
