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
