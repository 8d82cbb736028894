"""Request bodies. Event data itself is checked against the event catalog, not here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import Annotated

from events.admissible import MAX_INT
from events.catalog import INCIDENT_ID_PATTERN, PublishedAt

IncidentId = Annotated[str, StringConstraints(pattern=INCIDENT_ID_PATTERN)]
MAX_BATCH = 1000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventMetadataIn(Strict):
    correlation_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    causation_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class EventIn(Strict):
    type: str
    data: dict[str, Any]
    reported_at: PublishedAt | None = None
    metadata: EventMetadataIn | None = None


class AppendIn(Strict):
    expected_version: int | None = Field(default=None, ge=0, le=MAX_INT)
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class IncidentIn(BaseModel):
    """`{"id", "title", "summary"?, "location"?, "tags"?, "reported_at"?}`: the rest is IncidentOpened's data."""

    model_config = ConfigDict(extra="allow")
    id: IncidentId
    reported_at: PublishedAt | None = None


class FieldError(BaseModel):
    """One thing wrong with the request: where (`events[0].data.occurred`, `url`, a header) and what."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is sent (`application/problem+json`).

    Some problems add fields of their own, e.g. a version conflict's `expected_version` and
    `current_version`, or an already decided proposal's `decision` and `decided_by`.
    """

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["https://incident-timeline.dev/problems/version-conflict"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str
    instance: str | None = Field(default=None, description="the path of the request that failed")
    errors: list[FieldError] | None = Field(default=None, description="what is wrong, field by field")


# Responses, as documented: the routes build their JSON themselves (app.api.serialize and the
# routes' own helpers), and these models only describe it in the OpenAPI document
# (`responses={status: {"model": ...}}`), so nothing sent is filtered or re-encoded by them.


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Unreadable(BaseModel):
    field: str
    stored: str
    message: str


class EventOut(BaseModel):
    """A stored event as every read sends it."""

    position: int
    incident_id: str
    version: int
    event_id: str
    type: str = Field(description="an event type of the catalog")
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    reported_at: str | None = Field(description="when the event was reported, as given")
    recorded_at: str = Field(description="when this store recorded it (RFC 3339, UTC)")
    unreadable: list[Unreadable] | None = Field(default=None, description="stored times shown at the nearest end")


class AppendOut(BaseModel):
    incident_id: str
    version: int = Field(description="the incident's stream version after the append")
    positions: list[int] = Field(description="the global positions of the appended events, in order")
    recorded_at: str


class OpenedOut(AppendOut):
    id: str


class IncidentListItem(BaseModel):
    id: str
    title: str | None
    version: int
    opened_at: str
    tags: list[str]


class IncidentList(BaseModel):
    incidents: list[IncidentListItem]


class IncidentOut(BaseModel):
    id: str
    title: str | None
    summary: str | None
    location: dict[str, Any] | None
    tags: list[str]
    links: list[dict[str, Any]]
    version: int


class StreamPage(BaseModel):
    incident_id: str
    version: int
    events: list[EventOut]
    next_after_version: int | None = Field(description="pass as after_version for the next page; null at the end")


class LogPage(BaseModel):
    events: list[EventOut]
    next_after_position: int = Field(description="pass as after_position for the next page")
    head_position: int


class DecisionOut(BaseModel):
    status: str = Field(description="pending, accepted or rejected")
    reason: str | None = None
    overrides: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    decided_at: str | None = None
    decided_by: str | None = None


class ArticleSummary(BaseModel):
    id: str
    outlet: str
    url: str | None
    title: str | None
    published_at: str
    incident_id: str | None
    received_at: str
    received_by: str


class ProposalOut(Open):
    """A proposed fact and its decision (the proposal's own fields vary with what it proposes)."""

    decision: DecisionOut


class ArticleOut(ArticleSummary):
    text: str
    proposals: list[ProposalOut]


class ArticleList(BaseModel):
    articles: list[ArticleSummary]
    next_before: str | None = Field(description="pass as before for the next page; null at the end")


class AcceptedOut(Open):
    """The decision, whether it was a repeat, and the append's result (incident_id, version, positions)."""

    decision: DecisionOut
    replayed: bool


class RejectedOut(BaseModel):
    decision: DecisionOut
