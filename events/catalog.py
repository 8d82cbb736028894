"""The v1 event catalog: one frozen model per event type, with its schema version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from events.actors import ACTOR_EVENTS
from events.admissible import clamped_time, storable_time, text_problems
from events.dates import InvalidOccurred, parse_occurred
from events.names import name_key
from events.published import published_text

INCIDENT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"

KINDS = frozenset(
    {
        "shooting",
        "death",
        "injury",
        "arrest",
        "official_statement",
        "investigation_opened",
        "investigation_finding",
        "officer_leave",
        "officer_identified",
        "personnel_change",
        "policy_announced",
        "legislation",
        "court_order",
        "evidence_released",
        "protest",
        "other",
    }
)
RELATIONS = ("related", "part_of", "follows", "response_to")
RANKS = ("preferred", "normal", "deprecated")


def _known_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"unknown kind {value!r}; use one of {', '.join(sorted(KINDS))}")
    return value


def _has_words(value: str) -> str:
    if not name_key(value):
        raise ValueError("a name needs letters or digits")
    return value


def _edtf(value: str) -> str:
    try:
        return parse_occurred(value).edtf
    except InvalidOccurred as error:
        raise ValueError(str(error)) from None


IncidentId = Annotated[str, StringConstraints(pattern=INCIDENT_ID_PATTERN)]
AssertionId = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# The descriptions and the kinds' enum are for the published schema (the OpenAPI document); the
# validators are what decide.
Kind = Annotated[str, AfterValidator(_known_kind), Field(json_schema_extra={"enum": sorted(KINDS)})]
Edtf = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_edtf),
    Field(
        description=(
            "when it happened, as an EDTF date (ISO 8601-2): a day, month or year, maybe uncertain (?), "
            "approximate (~) or both (%), with unspecified digits (XX), a season (2026-21), "
            "an interval (open with ..), one of a set ([a,b]), or an RFC 3339 time"
        ),
        examples=["2026-01-24", "2026-01", "2026-01-24~", "2026-01-XX", "2026-01-24/2026-02-02", "../2026-01-24"],
    ),
]
ActorId = Annotated[
    str,
    StringConstraints(pattern=INCIDENT_ID_PATTERN),
    Field(description="an actor's id: a slug, as an incident's", examples=["kristi-noem"]),
]
ActorName = Annotated[Name, AfterValidator(_has_words)]
ActorKind = Literal["person", "body", "group", "outlet"]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://\S+$")]
Moment = Annotated[AwareDatetime, AfterValidator(storable_time)]
# A publication time as the report gives it: a day, or a time (see events.published); kept as text.
PublishedAt = Annotated[
    str,
    AfterValidator(published_text),
    Field(
        description="a calendar date (2026-02-02) or an RFC 3339 time (2026-02-02T14:30:00Z)",
        examples=["2026-02-02", "2026-02-02T14:30:00Z"],
    ),
]


class Data(BaseModel):
    # No NaN or infinity: neither backend's JSON can hold them.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Location(Data):
    name: Name
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Source(Data):
    outlet: Name
    url: Url | None = None
    published_at: PublishedAt | None = None
    quote: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)] | None = None


class IncidentOpened(Data):
    title: Name
    summary: Text | None = None
    location: Location | None = None
    tags: tuple[Name, ...] = ()


class IncidentRevised(Data):
    title: Name | None = None
    summary: Text | None = None
    location: Location | None = None
    tags: tuple[Name, ...] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one of title, summary, location, tags")
        return self


class IncidentsLinked(Data):
    related_incident_id: IncidentId
    relation: Literal["related", "part_of", "follows", "response_to"]


class PrivateActor(Data):
    """A private person named in an assertion: the name, and every text of the event that contains
    it, is stored sealed under a key of the person's own, which an erasure destroys (POST /v1/erasures)."""

    name: Name
    private: Literal[True]


class AssertionRecorded(Data):
    assertion_id: AssertionId
    kind: Kind
    occurred: Edtf
    headline: Name
    text: Text | None = None
    attributed_to: Name | None = None
    actors: tuple[Name | PrivateActor, ...] = ()
    location: Location | None = None
    sources: tuple[Source, ...]

    @field_validator("sources")
    @classmethod
    def _at_least_one_source(cls, sources: tuple[Source, ...]) -> tuple[Source, ...]:
        if not sources:
            raise ValueError("an assertion needs at least one source")
        return sources

    @model_validator(mode="after")
    def _no_private_name_in_the_id(self) -> Self:
        # Texts naming a private person are sealed, but an id is a key others refer to: it stays as written.
        words = set(re.findall(r"[a-z0-9]+", self.assertion_id.lower()))
        for actor in self.actors:
            if isinstance(actor, PrivateActor) and words & set(re.findall(r"[a-z0-9]{3,}", actor.name.lower())):
                raise ValueError(
                    "assertion_id must not contain a private person's name (ids are not sealed): choose one without it"
                )
        return self


class SourceAttached(Data):
    assertion_id: AssertionId
    source: Source


class AssertionDisputed(Data):
    assertion_id: AssertionId
    by_assertion_id: AssertionId
    note: Text | None = None

    @model_validator(mode="after")
    def _two_assertions(self) -> Self:
        if self.assertion_id == self.by_assertion_id:
            raise ValueError("an assertion cannot dispute itself")
        return self


class AssertionChanges(Data):
    occurred: Edtf | None = None
    headline: Name | None = None
    text: Text | None = None
    kind: Kind | None = None
    attributed_to: Name | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one of occurred, headline, text, kind, attributed_to")
        return self


class AssertionRevised(Data):
    assertion_id: AssertionId
    changes: AssertionChanges
    reason: Text


class AssertionRanked(Data):
    assertion_id: AssertionId
    rank: Literal["preferred", "normal", "deprecated"]
    reason: Text | None = None


class AssertionRetracted(Data):
    assertion_id: AssertionId
    reason: Text


class ErasureRecorded(Data):
    """A private person's key was destroyed: the sealed values at these positions now read [erased].
    Appended only by an erasure (POST /v1/erasures), to each incident that named the person; it
    names the key, never the person."""

    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    reason: Text
    positions: tuple[Annotated[int, Field(ge=1)], ...]


# The actors registry's events (events.actors): they go to its own stream, never an incident's.


class ActorRegistered(Data):
    actor_id: ActorId
    name: ActorName
    kind: ActorKind | None = None
    aliases: tuple[ActorName, ...] = Field(default=(), max_length=100)


class ActorAliased(Data):
    actor_id: ActorId
    alias: ActorName


class ActorsMerged(Data):
    """`merged_actor_id` is merged into `actor_id`, the actor kept."""

    actor_id: ActorId
    merged_actor_id: ActorId

    @model_validator(mode="after")
    def _two_actors(self) -> Self:
        if self.actor_id == self.merged_actor_id:
            raise ValueError("an actor cannot be merged into itself")
        return self


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    model: type[Data]
    schema_version: int


CATALOG: dict[str, EventType] = {
    model.__name__: EventType(model.__name__, model, version)
    for model, version in (
        (IncidentOpened, 1),
        (IncidentRevised, 1),
        (IncidentsLinked, 1),
        # v2: `sources` (a list) replaced v1's single `source`; see events.upcasting.
        (AssertionRecorded, 2),
        (SourceAttached, 1),
        (AssertionDisputed, 1),
        (AssertionRevised, 1),
        (AssertionRanked, 1),
        (AssertionRetracted, 1),
        (ErasureRecorded, 1),
        (ActorRegistered, 1),
        (ActorAliased, 1),
        (ActorsMerged, 1),
    )
}
# The events an incident's stream holds (the actors registry's go to its own stream).
INCIDENT_STREAM_EVENTS = tuple(name for name in CATALOG if name not in ACTOR_EVENTS)
# The ones a client appends (POST /v1/incidents/{id}/events): an erasure records itself.
APPENDABLE_EVENTS = tuple(name for name in INCIDENT_STREAM_EVENTS if name != "ErasureRecorded")

ASSERTION_EVENTS = frozenset(name for name in CATALOG if name.startswith("Assertion") or name == "SourceAttached")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an event's data: where (a path of keys and indexes) and what."""

    location: tuple[str | int, ...]
    message: str

    @property
    def field(self) -> str:
        """`("events", 0, "data", "occurred")` -> `events[0].data.occurred`."""
        path = ""
        for part in self.location:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        return path or "data"


class InvalidEvent(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


def current_version(type_name: str) -> int:
    return _event_type(type_name).schema_version


def validate(type_name: str, data: object) -> dict[str, Any]:
    """Check `data` against the current schema of `type_name`; return it normalised.

    Problems are located as in an event: `("type",)` or `("data", <field>, ...)`.
    """
    event_type = _event_type(type_name)
    unstorable = [Problem(("data", *where), message) for where, message in text_problems(data)]
    if unstorable:
        raise InvalidEvent(unstorable)
    try:
        model = event_type.model.model_validate(data)
    except ValidationError as error:
        raise InvalidEvent(
            [Problem(("data", *e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()]
        ) from None
    return model.model_dump(mode="json", exclude_none=True)


def parse(type_name: str, data: dict[str, Any]) -> Data:
    """The frozen model of stored (already upcast) data."""
    return _event_type(type_name).model.model_validate(data)


def _event_type(type_name: str) -> EventType:
    try:
        return CATALOG[type_name]
    except (KeyError, TypeError):
        raise InvalidEvent(
            [Problem(("type",), f"unknown event type {type_name!r}; use one of {', '.join(CATALOG)}")]
        ) from None


def to_json_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, as every time leaves the service (a stored time past the ends of
    what can be shown is shown at that end: see events.admissible)."""
    return clamped_time(moment).isoformat().replace("+00:00", "Z")
