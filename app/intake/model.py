"""The values that cross the boundary of the intake: a report and the record in, proposals out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from app.intake.dates import DatePhrase, When

__all__ = ["Action", "Report", "KnownIncident", "KnownAssertion", "Proposal", "ACTIONS"]

Action = Literal["record", "corroborate", "dispute", "refine"]
ACTIONS: tuple[Action, ...] = ("record", "corroborate", "dispute", "refine")


@dataclass(frozen=True, slots=True)
class Report:
    """A news report as received: `published` is a day when only the day is known."""

    outlet: str
    text: str
    published: date | datetime
    url: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class KnownIncident:
    incident_id: str
    title: str | None = None
    summary: str | None = None
    linked: tuple[str, ...] = ()  # incident ids linked from or to this one, any relation


@dataclass(frozen=True, slots=True)
class KnownAssertion:
    """An assertion as the record holds it now (after revisions), with every source's outlet and quote."""

    incident_id: str
    assertion_id: str
    kind: str
    occurred: str  # EDTF
    headline: str
    text: str | None = None
    attributed_to: str | None = None
    outlets: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    status: str = "active"  # "active" or "retracted"; retracted ones are never matched


@dataclass(frozen=True, slots=True)
class Proposal:
    """One dated fact the report states, and what accepting it would do to the record.

    - `record`: a new assertion (AssertionRecorded with this report as its source, `quote` verbatim);
    - `corroborate`: SourceAttached to `target_assertion_id`;
    - `refine`: SourceAttached to `target_assertion_id` and AssertionRevised of its `occurred` to
      this proposal's, with `reason`;
    - `dispute`: AssertionRecorded, then AssertionDisputed of the target. The target is either an
      assertion of the record (`target_assertion_id`) or an earlier proposal of the same report
      (`target_proposal_id`: the assertion its own accept recorded; accept that one first).

    `id` is derived from the quote's offsets and text, so posting the same report again gives the
    same ids. `score` is the strength of the match behind the action (0-1); for `record` it is one
    minus the best match found, i.e. how clearly the fact is new.
    """

    id: str
    quote: str
    start: int
    end: int
    dates: tuple[DatePhrase, ...]
    occurred: When
    kind: str
    headline: str
    attributed_to: str | None
    actors: tuple[str, ...]
    incident_id: str | None
    action: Action
    target_assertion_id: str | None
    target_proposal_id: str | None
    score: float
    reason: str
