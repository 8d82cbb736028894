"""Write handlers: plain functions that check a command against the catalog and the stream, then append."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, MutableSet, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.db import utcnow
from app.store import AppendResult, EventStore, IncidentNotFound, NewEvent, VersionConflict
from events import catalog
from events.actors import ACTOR_EVENTS, ACTORS_STREAM, RESERVED_STREAMS, Registry
from events.admissible import number_problems, text_problems
from events.catalog import InvalidEvent, Problem
from events.published import Published, parse_published
from events.upcasting import upcast

# A publication time a little ahead of our clock is tolerated (clock skew between newsrooms
# and this server); one further in the future is a mistake in the request.
REPORTED_AT_SKEW = timedelta(minutes=5)


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
    # For the import (app.importing): the id to store the event under (None: a new uuid4), and the
    # schema version `data` is written in (None: the current one). Data of an older version is
    # checked once upcast and stored as written, as every old event is (events.upcasting).
    event_id: str | None = None
    schema_version: int | None = None


def open_incident(
    store: EventStore,
    incident_id: str,
    data: Mapping[str, Any],
    *,
    actor: str,
    reported_at: Published | datetime | str | None = None,
    idempotency_key: str | None = None,
    idempotency_scope: str = "",
    metadata: Mapping[str, Any] | None = None,
    event_id: str | None = None,
    schema_version: int | None = None,
) -> AppendResult:
    """Open a new incident's stream with IncidentOpened."""
    command = EventCommand("IncidentOpened", data, reported_at, metadata or {}, event_id, schema_version)
    _not_reserved(incident_id)
    try:
        event = _opening(command, actor)
    except InvalidEvent as error:
        raise _located(error, (), strip_data=True) from None
    try:
        return store.append(
            incident_id,
            [event],
            expected_version=0,
            idempotency_key=idempotency_key,
            idempotency_scope=idempotency_scope,
        )
    except VersionConflict:
        raise IncidentExists(incident_id) from None


def check_opening(
    store: EventStore,
    incident_id: str,
    command: EventCommand,
    *,
    actor: str,
    known_incidents: Container[str] | None = None,
) -> NewEvent:
    """open_incident's checks without the append: the event it would append, or the error it would raise
    (InvalidEvent located as in an event, `data.title`; IncidentExists). For the import, which checks a
    whole file before writing; `known_incidents`: see check_events."""
    _not_reserved(incident_id)
    event = _opening(command, actor)
    if _exists(store, incident_id, known_incidents):
        raise IncidentExists(incident_id)
    return event


def _not_reserved(incident_id: str) -> None:
    if incident_id in RESERVED_STREAMS:
        raise InvalidEvent(
            [Problem(("incident_id",), f"{incident_id!r} is the actors registry's stream; an incident id is a slug")]
        )


def _opening(command: EventCommand, actor: str) -> NewEvent:
    try:
        data, schema_version = _checked_data("IncidentOpened", command)
    except InvalidEvent as error:
        raise _located(error, ()) from None
    published = _reported(command.reported_at, ("reported_at",))
    metadata = _metadata(actor, command.metadata, ())
    return _new_event("IncidentOpened", data, published, metadata, schema_version, command.event_id)


def append_events(
    store: EventStore,
    incident_id: str,
    commands: Sequence[EventCommand],
    *,
    actor: str,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    idempotency_scope: str = "",
    known_assertions: MutableSet[str] | None = None,
    known_incidents: Container[str] | None = None,
) -> AppendResult:
    """Validate a batch against the catalog and what the incident already holds, then append it.

    `known_assertions`, `known_incidents` (link targets only here): see check_events.
    """
    if store.incident_version(incident_id) is None:
        raise IncidentNotFound(incident_id)
    new_events = [_validated(index, command, actor) for index, command in enumerate(commands)]
    if idempotency_key is not None:
        # A repeat must get the original answer even though the incident has moved on since
        # (its assertions now exist), so it is answered before checking references.
        earlier = store.earlier_result(
            incident_id,
            new_events,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
            idempotency_scope=idempotency_scope,
        )
        if earlier is not None:
            return earlier
    recorded = _check_references(store, incident_id, new_events, known_assertions, known_incidents)
    result = store.append(
        incident_id,
        new_events,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        idempotency_scope=idempotency_scope,
    )
    if known_assertions is not None:
        known_assertions |= recorded
    return result


def check_events(
    store: EventStore,
    incident_id: str,
    commands: Sequence[EventCommand],
    *,
    actor: str,
    known_assertions: MutableSet[str] | None = None,
    known_incidents: Container[str] | None = None,
) -> list[NewEvent]:
    """append_events' checks without the append: the events it would append, or the error it would raise.

    For a caller that checks a whole file before it writes anything (the import), two caches it
    keeps across calls, so that no call reads a whole incident again (per batch, that would make
    a long import quadratic):
    - `known_assertions`: the assertion ids recorded in this incident so far, read from the store
      once and then kept up to date: this call adds the ones its batch records once the batch
      passes, append_events once it has landed;
    - `known_incidents`: the incidents open so far (in the store, or opened earlier in the file),
      asked instead of the store whether this incident and the targets of IncidentsLinked exist.
    """
    if not _exists(store, incident_id, known_incidents):
        raise IncidentNotFound(incident_id)
    new_events = [_validated(index, command, actor) for index, command in enumerate(commands)]
    recorded = _check_references(store, incident_id, new_events, known_assertions, known_incidents)
    if known_assertions is not None:
        known_assertions |= recorded
    return new_events


def _exists(store: EventStore, incident_id: str, known_incidents: Container[str] | None) -> bool:
    if known_incidents is not None:
        return incident_id in known_incidents
    return store.incident_version(incident_id) is not None


def _validated(index: int, command: EventCommand, actor: str) -> NewEvent:
    where = ("events", index)
    if command.type == "IncidentOpened":
        raise InvalidEvent(
            [
                Problem(
                    (*where, "type"), "the incident is already open; IncidentOpened comes only from POST /v1/incidents"
                )
            ]
        )
    if command.type == "ErasureRecorded":
        raise InvalidEvent(
            [Problem((*where, "type"), "ErasureRecorded comes only from an erasure: POST /v1/erasures (admin)")]
        )
    if command.type in ACTOR_EVENTS:
        raise InvalidEvent(
            [
                Problem(
                    (*where, "type"),
                    f"{command.type} is an event of the actors registry, not of an incident: use /v1/actors",
                )
            ]
        )
    return _checked(index, command, actor)


def _checked(index: int, command: EventCommand, actor: str) -> NewEvent:
    """The event a command stands for, checked against the catalog (problems located in `events[index]`)."""
    where = ("events", index)
    try:
        data, schema_version = _checked_data(command.type, command)
    except InvalidEvent as error:
        raise _located(error, where) from None
    published = _reported(command.reported_at, (*where, "reported_at"))
    metadata = _metadata(actor, command.metadata, where)
    return _new_event(command.type, data, published, metadata, schema_version, command.event_id)


def _checked_data(type_name: str, command: EventCommand) -> tuple[dict[str, Any], int]:
    """The data to store and its schema version (problems located as in an event: `data.kind`).

    Data in the current version is validated and stored normalised. Data in an older version (an
    export of an older store) is stored as written, like every old event, and upcast when read
    (events.upcasting): so it is held to what a read needs, storable text and validity once upcast.
    """
    current = catalog.current_version(type_name)
    version = command.schema_version
    if version is None or (type(version) is int and version == current):
        return catalog.validate(type_name, command.data), current
    if type(version) is not int or not 1 <= version < current:
        span = f"1 to {current}" if current > 1 else "1"
        raise InvalidEvent([Problem(("schema_version",), f"{type_name} has schema version {span}, not {version!r}")])
    if not isinstance(command.data, Mapping):
        raise InvalidEvent([Problem(("data",), "must be a JSON object")])
    written = dict(command.data)
    unstorable = [Problem(("data", *at), message) for at, message in text_problems(written)]
    if unstorable:
        raise InvalidEvent(unstorable)
    try:
        reached, upcast_data = upcast(type_name, version, dict(written))  # a copy: what is stored stays as written
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise InvalidEvent([Problem(("data",), f"cannot be read as {type_name} v{version}: {error!r}")]) from None
    if reached != current:
        raise InvalidEvent(
            [Problem(("schema_version",), f"no upcaster takes {type_name} from v{reached} to v{current}")]
        )
    catalog.validate(type_name, upcast_data)
    return written, version


def _metadata(actor: str, metadata: Mapping[str, Any], where: tuple) -> dict[str, Any]:
    merged = {"actor": actor, **{k: v for k, v in metadata.items() if v is not None}}
    unstorable = [
        Problem((*where, "metadata", *at), message)
        for at, message in (*text_problems(merged), *number_problems(merged))
    ]
    if unstorable:
        raise InvalidEvent(unstorable)
    return merged


def _new_event(
    type_name: str,
    data: dict[str, Any],
    published: Published | None,
    metadata: dict[str, Any],
    schema_version: int | None = None,
    event_id: str | None = None,
) -> NewEvent:
    return NewEvent(
        type_name,
        data,
        schema_version or catalog.current_version(type_name),
        published.moment if published else None,
        metadata,
        event_id,
        reported_day=published.day if published else None,
    )


def _check_references(
    store: EventStore,
    incident_id: str,
    new_events: list[NewEvent],
    known_assertions: MutableSet[str] | None = None,
    known_incidents: Container[str] | None = None,
) -> set[str]:
    """Every assertion an event points at must be recorded in this incident, earlier or in this batch.

    Assertions are never removed, so this check needs no lock: what exists now still exists
    when the append commits. A new AssertionRecorded must not reuse an id; two concurrent
    appends could both pass that check, and the fold then keeps the first (see the timeline fold).
    A caller's cache (`known_assertions`) has the same property: the ids it holds stay recorded.
    Returns the assertion ids this batch records (the caller's cache is not changed here).
    """
    referencing = [e for e in new_events if e.type in catalog.ASSERTION_EVENTS]
    links = [e for e in new_events if e.type == "IncidentsLinked"]
    if not referencing and not links:
        return set()
    if known_assertions is not None:
        known = known_assertions
    else:
        known = store.data_values(incident_id, "AssertionRecorded", "assertion_id") if referencing else set()
    recorded: set[str] = set()
    problems: list[Problem] = []
    for index, event in enumerate(new_events):
        data = _current_data(event)
        if event.type == "AssertionRecorded":
            if data["assertion_id"] in known or data["assertion_id"] in recorded:
                problems.append(
                    Problem(
                        ("events", index, "data", "assertion_id"),
                        f"assertion {data['assertion_id']!r} is already recorded in this incident; revise it instead",
                    )
                )
            recorded.add(data["assertion_id"])
            continue
        for key in ("assertion_id", "by_assertion_id"):
            if (
                key in data
                and event.type in catalog.ASSERTION_EVENTS
                and data[key] not in known
                and data[key] not in recorded
            ):
                problems.append(
                    Problem(
                        ("events", index, "data", key),
                        f"no assertion {data[key]!r} is recorded in incident {incident_id!r}",
                    )
                )
        if event.type == "IncidentsLinked":
            related = data["related_incident_id"]
            if related == incident_id:
                problems.append(
                    Problem(("events", index, "data", "related_incident_id"), "an incident cannot be linked to itself")
                )
            elif not _exists(store, related, known_incidents):
                problems.append(
                    Problem(("events", index, "data", "related_incident_id"), f"there is no incident {related!r}")
                )
    if problems:
        raise InvalidEvent(problems)
    return recorded


def _current_data(event: NewEvent) -> Mapping[str, Any]:
    """The event's data in the current schema (data of an older version is stored as written)."""
    if event.schema_version == catalog.current_version(event.type):
        return event.data
    return upcast(event.type, event.schema_version, dict(event.data))[1]


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
        raise InvalidEvent(
            [Problem(location, "reported_at lies in the future; it is when the information became public")]
        )
    return published


def _located(error: InvalidEvent, where: tuple, *, strip_data: bool = False) -> InvalidEvent:
    def place(location: tuple) -> tuple:
        if strip_data and location[:1] == ("data",):
            location = location[1:]
        return (*where, *location)

    return InvalidEvent([Problem(place(p.location), p.message) for p in error.problems])


# -- the actors registry ---------------------------------------------------------------------------

REGISTRY_ATTEMPTS = 5


class RegistryMoved(VersionConflict):
    """The actors registry is not at the version the request expected."""

    def __init__(self, expected: int, actual: int):
        super().__init__(ACTORS_STREAM, expected, actual)
        self.args = (
            f"the actors registry is at version {actual}, not the expected version {expected}: "
            "read it again (GET /v1/actors) and retry",
        )


@dataclass(frozen=True, slots=True)
class ActorsWritten:
    registry: Registry  # as it stands with the write
    result: AppendResult | None  # None: nothing appended, the registry already said so


def registry_of(store: EventStore) -> Registry:
    """The actors registry as the store holds it now."""
    return Registry.fold(store.read_stream(ACTORS_STREAM))


def register_actor(
    store: EventStore,
    actor_id: str,
    name: str,
    *,
    kind: str | None = None,
    aliases: Sequence[str] = (),
    actor: str,
    expected_version: int | None = None,
) -> ActorsWritten:
    """Register an actor under a new id (ActorExists if the id is taken, NameTaken if a name is)."""
    data: dict[str, Any] = {"actor_id": actor_id, "name": name}
    if kind is not None:
        data["kind"] = kind
    if aliases:
        data["aliases"] = list(aliases)
    command = EventCommand("ActorRegistered", data)
    return _write_registry(store, lambda _: [command], actor=actor, expected_version=expected_version)


def alias_actor(
    store: EventStore, actor_id: str, alias: str, *, actor: str, expected_version: int | None = None
) -> ActorsWritten:
    """Give an actor one more name; nothing is appended if the name is already the actor's."""

    def commands(registry: Registry) -> list[EventCommand]:
        # A merged id's names lead to the actor it was merged into: the alias is given to that one.
        return [EventCommand("ActorAliased", {"actor_id": registry.live(actor_id) or actor_id, "alias": alias})]

    return _write_registry(store, commands, actor=actor, expected_version=expected_version, keep_unchanged=False)


def merge_actors(
    store: EventStore, actor_id: str, merged_actor_id: str, *, actor: str, expected_version: int | None = None
) -> ActorsWritten:
    """Merge `merged_actor_id` into `actor_id`, which is kept; nothing is appended if it already was."""
    command = EventCommand("ActorsMerged", {"actor_id": actor_id, "merged_actor_id": merged_actor_id})
    return _write_registry(
        store, lambda _: [command], actor=actor, expected_version=expected_version, keep_unchanged=False
    )


def append_actor_events(
    store: EventStore, commands: Sequence[EventCommand], *, actor: str, expected_version: int | None = None
) -> ActorsWritten:
    """Check a batch of the registry's events against the registry, then append it (the import)."""
    return _write_registry(store, lambda _: list(commands), actor=actor, expected_version=expected_version)


def check_actor_events(
    registry: Registry, commands: Sequence[EventCommand], *, actor: str, keep_unchanged: bool = True
) -> list[NewEvent]:
    """The events a batch of commands to the registry stands for, checked against the catalog and
    against `registry`, which is brought up to date with them (ActorRefused, InvalidEvent: the first
    refusal; the registry then holds the commands before it). `keep_unchanged=False` leaves out
    events that change nothing (an alias the actor already has)."""
    new_events: list[NewEvent] = []
    for index, command in enumerate(commands):
        if command.type not in ACTOR_EVENTS:
            raise InvalidEvent(
                [
                    Problem(
                        ("events", index, "type"),
                        f"{command.type!r} is not an event of the actors registry, which takes "
                        f"{', '.join(sorted(ACTOR_EVENTS))}",
                    )
                ]
            )
        event = _checked(index, command, actor)
        data = _current_data(event)
        if registry.check(event.type, data) or keep_unchanged:
            new_events.append(event)
        registry.apply(event.type, data)
    return new_events


def _write_registry(
    store: EventStore,
    commands_for: Callable[[Registry], list[EventCommand]],
    *,
    actor: str,
    expected_version: int | None,
    keep_unchanged: bool = True,
) -> ActorsWritten:
    # The checks need the whole registry (is a name taken? would a merge make a cycle?), so the
    # append states the version they were made against: a write that lands in between makes this
    # one fail, with nothing written, instead of landing on a registry it was never checked
    # against. A request that named no version of its own did not depend on one, so it is checked
    # again against the newer registry and tried again; one that did gets the 409.
    attempt = 0
    while True:
        attempt += 1
        registry = registry_of(store)
        if expected_version is not None and registry.version != expected_version:
            raise RegistryMoved(expected_version, registry.version)
        checked_at = registry.version
        new_events = check_actor_events(registry, commands_for(registry), actor=actor, keep_unchanged=keep_unchanged)
        if not new_events:
            return ActorsWritten(registry, None)
        try:
            result = store.append(ACTORS_STREAM, new_events, expected_version=checked_at)
        except VersionConflict as conflict:
            if expected_version is not None or attempt == REGISTRY_ATTEMPTS:
                raise RegistryMoved(checked_at, conflict.actual) from None
            continue
        return ActorsWritten(registry, result)
