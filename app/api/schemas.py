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


class IncidentFieldsOut(BaseModel):
    id: str
    title: str | None
    summary: str | None
    location: dict[str, Any] | None
    tags: list[str]
    links: list[dict[str, Any]]


class IncidentOut(IncidentFieldsOut):
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


class InclusionProofOut(BaseModel):
    leaf_index: int = Field(description="the event's position - 1")
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || the event's canonical encoding), lowercase hex")
    audit_path: list[str] = Field(description="RFC 9162 section 2.1.3.1, from the leaf up, lowercase hex")
    root_hash: str


class ConsistencyProofOut(BaseModel):
    from_: int = Field(alias="from")
    to: int
    proof: list[str] = Field(description="RFC 9162 section 2.1.4.1, lowercase hex")


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

    speaker_actor_id: str | None = Field(
        description="the actor the proposed speaker (`attributed_to`) resolves to in the actors registry, or null"
    )
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


# -- timelines ---------------------------------------------------------------------------------


class OccurredOut(BaseModel):
    """When it happened: the EDTF as recorded, its inclusive bounds, precision and a human display."""

    edtf: str
    earliest: str | None = Field(default=None, description="first possible day (absent if the EDTF cannot be read)")
    latest: str | None = Field(default=None, description="last possible day")
    precision: str | None = Field(default=None, examples=["day", "month", "season", "interval"])
    display: str | None = Field(default=None, examples=["late January 2026"])
    approximate: bool | None = None
    uncertain: bool | None = None


class SourceOut(Open):
    outlet: str
    url: str | None = None
    published_at: str | None = Field(default=None, description="when the outlet published it, as given")
    quote: str | None = None


class RetractionOut(BaseModel):
    reason: str
    recorded_at: str
    reported_at: str | None


class DisputeNoteOut(BaseModel):
    by: str = Field(description="the disputing assertion's id")
    note: str


class RevisionOut(BaseModel):
    version: int
    recorded_at: str
    reported_at: str | None
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


class RevisionsOut(BaseModel):
    count: int
    history: list[RevisionOut] | None = Field(default=None, description="with history=true only")


class EntryOut(BaseModel):
    """One assertion as a timeline shows it at the cut-off."""

    assertion_id: str
    kind: str
    occurred: OccurredOut
    headline: str
    text: str | None
    attributed_to: str | None = Field(description="who made the claim, as written")
    attributed_to_actor: str | None = Field(
        description="the id of the actor `attributed_to` resolves to in the actors registry, or null"
    )
    actors: list[Any]
    actor_ids: list[str | None] = Field(description="for each of `actors`, in order, the actor it resolves to, or null")
    location: dict[str, Any] | None
    sources: list[SourceOut]
    corroboration: int = Field(description="how many sources report it")
    status: str = Field(description="active or retracted")
    retraction: RetractionOut | None
    rank: str = Field(description="preferred, normal or deprecated")
    disputes: list[str] = Field(description="assertion ids this one disputes")
    disputed_by: list[str] = Field(description="assertion ids disputing this one")
    dispute_notes: list[DisputeNoteOut]
    revisions: RevisionsOut
    first_reported_at: str | None
    recorded_at: str
    recorded_version: int
    last_version: int


class CutOffOut(BaseModel):
    as_of: str | None
    as_of_version: int | None
    reported_as_of: str | None


class TimelineOut(BaseModel):
    incident: IncidentFieldsOut
    version: int = Field(description="the incident's stream version the timeline was folded at")
    cut_off: CutOffOut
    entries: list[EntryOut]
    unreadable: list[dict[str, Any]] | None = Field(default=None, description="stored events the fold had to leave out")


class TimelineJsOut(Open):
    """`format=timelinejs`: the document Knight Lab's TimelineJS reads."""

    events: list[dict[str, Any]]


class ChangeBoundOut(CutOffOut):
    version: int


class ChangedOut(BaseModel):
    assertion_id: str
    fields: dict[str, Any] = Field(description="each changed field's before and after")
    entry: EntryOut


class ChangesOut(BaseModel):
    incident_id: str
    since: ChangeBoundOut
    until: ChangeBoundOut
    added: list[EntryOut]
    changed: list[ChangedOut]
    retracted: list[EntryOut]


class AssertionOut(EntryOut):
    incident_id: str


class LogBoundOut(BaseModel):
    position: int = Field(description="the global log position of this end")
    as_of: str | None = Field(description="the recorded time asked for, if one was")
    reported_as_of: str | None = Field(description="the publication time asked for, if one was")


class CrossChangedOut(ChangedOut):
    incident_id: str
    entry: AssertionOut


class CrossChangesOut(BaseModel):
    since: LogBoundOut
    until: LogBoundOut
    added: list[AssertionOut]
    changed: list[CrossChangedOut]
    retracted: list[AssertionOut]


class AssertionCutOffOut(CutOffOut):
    as_of_position: int | None


class AssertionPageOut(BaseModel):
    cut_off: AssertionCutOffOut
    position: int = Field(description="the global log position the answer reflects")
    total: int = Field(description="how many assertions match, at that position")
    offset: int
    limit: int
    next_offset: int | None = Field(description="pass as offset for the next page (offset paging); null at the end")
    next_cursor: str | None = Field(description="pass as cursor for the next page; null at the end")
    assertions: list[AssertionOut]


# -- actors ------------------------------------------------------------------------------------


class ActorOut(BaseModel):
    """An actor of the registry (a merged actor is shown as the one it was merged into)."""

    id: str
    name: str
    kind: str | None = Field(description="person, body, group or outlet; null if not said")
    aliases: list[str] = Field(description="its other names, as written")
    merged_actor_ids: list[str] = Field(description="the actors merged into this one, directly or not")
    names: list[str] = Field(description="every name that leads to it, as written: its own, then the merged actors'")
    normalised_names: list[str] = Field(
        description="the normalised names a name is matched by (case, punctuation, titles and acronyms aside), sorted"
    )


class ActorList(BaseModel):
    version: int = Field(description="the actors registry's version (pass as expected_version to write)")
    actors: list[ActorOut]


class ActorWrittenOut(BaseModel):
    actor: ActorOut
    version: int = Field(description="the actors registry's version with this write")
    positions: list[int] = Field(description="the global positions of the events appended; empty if nothing changed")


# -- webhook subscriptions ----------------------------------------------------------------------


class SubscriptionOut(BaseModel):
    id: str
    owner_key_id: str
    url: str
    description: str | None
    incidents: list[str] | None = Field(description="only these incidents; null: every incident")
    types: list[str] | None = Field(description="only these event types; null: every type")
    status: str = Field(description="active, paused or disabled")
    paused: bool
    disabled_reason: str | None
    disabled_at: str | None
    checkpoint: int = Field(description="the global position delivered up to")
    backlog: int = Field(description="matching events not delivered yet")
    failing_since: str | None
    previous_secret_expires_at: str | None
    created_at: str
    updated_at: str


class CreatedSubscriptionOut(SubscriptionOut):
    secret: str = Field(description="the signing secret, shown this once")


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class RotatedOut(BaseModel):
    id: str
    secret: str = Field(description="the new signing secret, shown this once")
    previous_secret_expires_at: str


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    position: int
    incident_id: str
    attempt: int
    status_code: int | None
    error: str | None
    response_body: str | None
    latency_ms: float
    attempted_at: str
    next_attempt_at: str | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
    next_before: int | None = Field(description="pass as before for the next page; null at the end")


class ReplayOut(BaseModel):
    id: str
    from_position: int
    queued: int


class IndexProgressOut(BaseModel):
    position: int = Field(description="the log position the assertion index reflects")
    lag: int = Field(description="positions behind the head")


class TreeProgressOut(BaseModel):
    size: int = Field(description="the events the log's Merkle tree holds (it integrates behind the head)")
    lag: int = Field(description="positions behind the head; integrated before each checkpoint is signed")


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])
    head_position: int = Field(description="the last global position in the log")
    assertion_index: IndexProgressOut
    log_tree: TreeProgressOut
