"""Answering analysts from the assertion index: the rows valid at a log position, filtered, sorted, paged.

Each filter here means what `Filters.admit` means in the fold (app.projections.timeline), and the
order is the one the fold-everything read gives (`TimelineReads.assertions`): earliest, latest,
incident, recording version. Tests hold the two to the same answers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.projections.index.search import matching, search_text, words
from app.projections.index.tables import assertion_state_outlets, assertion_states, reported_key
from app.projections.timeline import Filters

# Entries whose dates cannot be read sort as if dated "9999", as the fold-everything read sorts them.
LAST = "9999"

t = assertion_states


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended, and the log position the first page was read at (later pages read there too)."""

    position: int
    after: tuple[str, str, str, int]

    def encode(self) -> str:
        raw = json.dumps([self.position, *self.after], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            position, earliest, latest, incident_id, version = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise InvalidCursor("this cursor was not made by this service; pass next_cursor as given") from None
        if not (
            isinstance(position, int)
            and isinstance(version, int)
            and all(isinstance(value, str) for value in (earliest, latest, incident_id))
        ):
            raise InvalidCursor("this cursor was not made by this service; pass next_cursor as given")
        return cls(position, (earliest, latest, incident_id, version))


@dataclass(frozen=True, slots=True)
class Narrowing:
    """What the index can ask beyond a timeline's filters."""

    occurred_within: bool = False  # both bounds inside occurred_from..occurred_to, not just overlapping
    disputed: bool | None = None  # disputed by another entry (true) or not (false)
    status: str | None = None  # active or retracted
    rank: str | None = None
    min_sources: int | None = None
    q: str | None = None  # every word in the headline, text or quotes

    def admits(self, entry: Mapping[str, Any], filters: Filters) -> bool:
        """The same test on a rendered entry (for answers folded rather than read from the index)."""
        occurred = entry["occurred"]
        if self.occurred_within and filters.occurred_from:
            if not occurred.get("earliest") or occurred["earliest"] < filters.occurred_from.isoformat():
                return False
        if self.occurred_within and filters.occurred_to:
            if not occurred.get("latest") or occurred["latest"] > filters.occurred_to.isoformat():
                return False
        if self.q and not set(words(self.q)) <= set(words(search_text(entry))):
            return False
        return (
            (self.disputed is None or bool(entry["disputed_by"]) == self.disputed)
            and (self.status is None or entry["status"] == self.status)
            and (self.rank is None or entry["rank"] == self.rank)
            and (self.min_sources is None or len(entry["sources"]) >= self.min_sources)
        )


@dataclass(frozen=True, slots=True)
class IndexPage:
    position: int
    total: int
    assertions: list[dict[str, Any]]
    next_cursor: str | None


def _sort_columns() -> tuple[Any, ...]:
    return (
        sa.func.coalesce(t.c.earliest, LAST),
        sa.func.coalesce(t.c.latest, LAST),
        t.c.incident_id,
        t.c.recorded_version,
    )


def sort_key(entry: Mapping[str, Any]) -> tuple[str, str, str, int]:
    """The order of answers across incidents: earliest, latest, incident, recording version."""
    occurred = entry["occurred"]
    return (
        occurred.get("earliest") or LAST,
        occurred.get("latest") or LAST,
        entry["incident_id"],
        entry["recorded_version"],
    )


def _conditions(
    position: int,
    filters: Filters,
    incidents: Collection[str],
    narrowing: Narrowing,
    engine: Engine,
    reported_as_of: datetime | None = None,
) -> list[Any]:
    where: list[Any] = [t.c.from_position <= position, sa.or_(t.c.to_position.is_(None), t.c.to_position > position)]
    if reported_as_of is None:
        where.append(t.c.reported_to.is_(None))
    else:
        moment = reported_key(reported_as_of)
        where += [t.c.reported_from <= moment, sa.or_(t.c.reported_to.is_(None), t.c.reported_to > moment)]
    if incidents:
        where.append(t.c.incident_id.in_(sorted(incidents)))
    if filters.kinds:
        where.append(t.c.kind.in_(sorted(filters.kinds)))
    if not filters.include_retracted:
        where.append(t.c.status != "retracted")
    # Overlap: some day of the entry's range is in the asked range. Within: every day is.
    if filters.occurred_from:
        column = t.c.earliest if narrowing.occurred_within else t.c.latest
        where.append(column >= filters.occurred_from.isoformat())
    if filters.occurred_to:
        column = t.c.latest if narrowing.occurred_within else t.c.earliest
        where.append(column <= filters.occurred_to.isoformat())
    if narrowing.disputed is not None:
        where.append(t.c.disputed.is_(narrowing.disputed))
    if narrowing.status is not None:
        where.append(t.c.status == narrowing.status)
    if narrowing.rank is not None:
        where.append(t.c.rank == narrowing.rank)
    if narrowing.min_sources is not None:
        where.append(t.c.source_count >= narrowing.min_sources)
    if narrowing.q:
        where.append(matching(engine, narrowing.q))
    if filters.attributed_to:
        where.append(t.c.attributed_to_folded.contains(filters.attributed_to.lower(), autoescape=True))
    if filters.outlet:
        outlets = assertion_state_outlets
        where.append(sa.exists().where(outlets.c.state_id == t.c.id, outlets.c.outlet_folded == filters.outlet.lower()))
    return where


class AssertionIndex:
    def __init__(self, engine: Engine):
        self.engine = engine

    def page(
        self,
        position: int,
        filters: Filters,
        *,
        incidents: Collection[str] = (),
        limit: int | None,
        offset: int = 0,
        cursor: Cursor | None = None,
        narrowing: Narrowing = Narrowing(),
        reported_as_of: datetime | None = None,
    ) -> IndexPage:
        """The assertions valid at `position` (a cursor's own position wins), as reported by
        `reported_as_of` if given, a page at a time (`limit=None`: all of them, for an export)."""
        if cursor is not None:
            position = cursor.position
        where = _conditions(position, filters, incidents, narrowing, self.engine, reported_as_of)
        sort = _sort_columns()
        query = sa.select(t.c.entry).where(*where).order_by(*sort)
        if limit is not None:
            query = query.limit(limit + 1)
        if cursor is not None:
            query = query.where(sa.tuple_(*sort) > sa.tuple_(*cursor.after))
        else:
            query = query.offset(offset)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
            found = list(conn.execute(query).scalars())
        more = limit is not None and len(found) > limit
        found = found[:limit]
        next_cursor = Cursor(position, sort_key(found[-1])).encode() if more and found else None
        return IndexPage(position, total, found, next_cursor)
