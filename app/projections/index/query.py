"""Answering analysts from the assertion index: the rows valid at a log position, filtered, sorted, paged.

Each filter here means what `Filters.admit` means in the fold (app.projections.timeline), and each
order (`SORTS`) is the one the fold-everything read gives (`TimelineReads.assertions`) with the same
key function. Tests hold the two to the same answers.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.projections.index.search import matching, search_text, storable, words
from app.projections.index.tables import (
    assertion_entries,
    assertion_speakers,
    assertion_state_outlets,
    assertion_states,
    live_generation,
    reported_key,
)
from app.projections.timeline import Filters
from events.names import name_key
from events.published import parse_published

# Entries whose dates cannot be read sort as if dated "9999", as the fold-everything read sorts them.
LAST = "9999"

t = assertion_states


class InvalidCursor(ValueError):
    pass


@functools.lru_cache(maxsize=8192)  # the same times recur across an assertion's rows
def _instant(text: str | None) -> str:
    """A time as the service writes it (RFC 3339, or a publication day) as an index key; LAST if unreadable."""
    if not text:
        return LAST
    try:
        return reported_key(parse_published(text).moment)
    except (ValueError, TypeError, OverflowError):
        return LAST


def speaker_key(entry: Mapping[str, Any]) -> str | None:
    """Who made the claim, in the form actors' names are matched in (None if no one is named)."""
    return storable(name_key(entry["attributed_to"])) if entry.get("attributed_to") else None


def first_reported_key(entry: Mapping[str, Any]) -> str:
    return _instant(entry.get("first_reported_at"))


def recorded_key(entry: Mapping[str, Any]) -> str:
    return _instant(entry.get("recorded_at"))


Key = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Sort:
    """An order of answers across incidents: its columns and the same key read off an entry."""

    name: str
    columns: tuple[Any, ...]
    key: Callable[[Mapping[str, Any]], Key]
    descending: bool = False


def _occurred(entry: Mapping[str, Any]) -> Key:
    occurred = entry["occurred"]
    return (
        occurred.get("earliest") or LAST,
        occurred.get("latest") or LAST,
        entry["incident_id"],
        entry["recorded_version"],
    )


def _first_reported(entry: Mapping[str, Any]) -> Key:
    return (first_reported_key(entry), entry["incident_id"], entry["recorded_version"])


def _recorded(entry: Mapping[str, Any]) -> Key:
    return (recorded_key(entry), entry["incident_id"], entry["recorded_version"])


def _sorts() -> dict[str, Sort]:
    occurred = (t.c.earliest_key, t.c.latest_key, t.c.incident_id, t.c.recorded_version)
    first = (sa.func.coalesce(t.c.first_reported_key, LAST), t.c.incident_id, t.c.recorded_version)
    recorded = (sa.func.coalesce(t.c.recorded_key, LAST), t.c.incident_id, t.c.recorded_version)
    sorts = {}
    for name, columns, key in (
        ("occurred", occurred, _occurred),
        ("first_reported", first, _first_reported),
        ("recorded", recorded, _recorded),
    ):
        sorts[name] = Sort(name, columns, key)
        sorts[f"-{name}"] = Sort(f"-{name}", columns, key, descending=True)
    return sorts


# By when it happened (earliest, latest), when it was first reported, or when it was recorded;
# ties by incident and recording version. A leading '-' reverses the order.
SORTS = _sorts()
DEFAULT_SORT = SORTS["occurred"]


def sort_key(entry: Mapping[str, Any]) -> Key:
    """The default order of answers across incidents: earliest, latest, incident, recording version."""
    return _occurred(entry)


def sorted_answers(found: list[dict[str, Any]], sort: Sort) -> list[dict[str, Any]]:
    return sorted(found, key=sort.key, reverse=sort.descending)


_NOT_OURS = "this cursor was not made by this service for this order; pass next_cursor as given, with the same sort"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended, in which order, and the log position the first page was read at (later
    pages read there too)."""

    position: int
    after: Key
    sort: str = "occurred"

    def encode(self) -> str:
        raw = json.dumps([self.position, self.sort, *self.after], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            position, sort, *after = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise InvalidCursor(_NOT_OURS) from None
        if not (isinstance(position, int) and not isinstance(position, bool) and sort in SORTS):
            raise InvalidCursor(_NOT_OURS)
        width = len(SORTS[sort].columns)
        if len(after) != width or not all(isinstance(value, str) for value in after[:-1]):
            raise InvalidCursor(_NOT_OURS)
        if not isinstance(after[-1], int) or isinstance(after[-1], bool):
            raise InvalidCursor(_NOT_OURS)
        return cls(position, tuple(after), sort)


@dataclass(frozen=True, slots=True)
class Narrowing:
    """What the index can ask beyond a timeline's filters."""

    occurred_within: bool = False  # both bounds inside occurred_from..occurred_to, not just overlapping
    disputed: bool | None = None  # disputed by another entry (true) or not (false)
    status: str | None = None  # active or retracted
    rank: str | None = None
    min_sources: int | None = None
    q: str | None = None  # every word in the headline, text or quotes
    speakers: frozenset[str] | None = None  # said by one of these names (events.names.name_key)

    def admits(self, entry: Mapping[str, Any], filters: Filters) -> bool:
        """The same test on a rendered entry (for answers folded rather than read from the index)."""
        occurred = entry["occurred"]
        if self.speakers is not None and speaker_key(entry) not in self.speakers:
            return False
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


def _conditions(
    position: int,
    filters: Filters,
    incidents: Collection[str],
    narrowing: Narrowing,
    engine: Engine,
    reported_as_of: datetime | None = None,
    named: Speakers | None = None,
) -> list[Any]:
    where: list[Any] = [_held_at(position, reported_as_of)]
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
        where.append(matching(engine, narrowing.q, position, reported_as_of))
    if narrowing.speakers is not None:
        where.append(t.c.speaker_key.in_(sorted(narrowing.speakers)) if narrowing.speakers else sa.false())
    if filters.attributed_to:
        # The rows of the speakers whose names hold the part (found first: `speakers_named`), by
        # their keys; the names themselves are compared only where a key also goes by a name
        # without the part (they are not in the indexes: each row would be read).
        keys = sorted(named.keys if named else ())
        where.append(t.c.speaker_key.in_(keys) if keys else sa.false())
        if named is not None and not named.every_name_holds_it:
            where.append(t.c.attributed_to_folded.contains(filters.attributed_to.lower(), autoescape=True))
    if filters.outlet:
        outlets = assertion_state_outlets
        where.append(sa.exists().where(outlets.c.state_id == t.c.id, outlets.c.outlet_folded == filters.outlet.lower()))
    return where


@dataclass(frozen=True, slots=True)
class Speakers:
    keys: frozenset[str]  # the speakers some of whose names hold the part
    every_name_holds_it: bool  # every name these speakers go by in the index holds it


def speakers_named(conn: Connection, part: str) -> Speakers:
    """The keys of the speakers the live generation names with `part` in the name (a few rows: a
    list of them lets each backend's planner find their rows by the speaker index), and whether
    all their names hold it."""
    s = assertion_speakers
    folded = part.lower()
    named = sa.select(s.c.speaker_key).where(
        s.c.generation == live_generation(), s.c.attributed_to_folded.contains(folded, autoescape=True)
    )
    # Every name of those speakers, in the same round trip.
    names = conn.execute(
        sa.select(s.c.speaker_key, s.c.attributed_to_folded).where(
            s.c.generation == live_generation(), s.c.speaker_key.in_(named)
        )
    ).all()
    return Speakers(frozenset(key for key, _ in names), all(folded in name for _, name in names))


def _few(filters: Filters, incidents: Collection[str], narrowing: Narrowing) -> bool:
    """Whether the filters leave few of the rows: named incidents, words, a speaker, an outlet, disputed."""
    return bool(
        incidents
        or narrowing.q
        or narrowing.speakers is not None
        or filters.attributed_to
        or filters.outlet
        or narrowing.disputed is True
    )


def _held_at(position: int, reported_as_of: datetime | None) -> Any:
    """The rows valid at a position (and a publication time): one per assertion then."""
    held = sa.and_(
        t.c.generation == live_generation(),
        t.c.from_position <= position,
        sa.or_(t.c.to_position.is_(None), t.c.to_position > position),
    )
    if reported_as_of is None:
        return sa.and_(held, t.c.reported_to.is_(None))
    moment = reported_key(reported_as_of)
    return sa.and_(held, t.c.reported_from <= moment, sa.or_(t.c.reported_to.is_(None), t.c.reported_to > moment))


@dataclass(frozen=True, slots=True)
class Moment:
    """A cut-off of the whole log: a position, and optionally what had been reported by a time."""

    position: int
    reported_as_of: datetime | None = None


class AssertionIndex:
    def __init__(self, engine: Engine):
        self.engine = engine

    def changed_between(
        self, since: Moment, until: Moment, *, incidents: Collection[str] = ()
    ) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
        """Every assertion whose row at `until` is not its row at `since`: (entry then or None, entry now).

        A row valid at both cut-offs is the same row, so the assertions that differ are those whose
        row at `until` is not valid at `since`; their rows at `since` are then read by key.
        """
        after_where = [
            _held_at(until.position, until.reported_as_of),
            sa.not_(_held_at(since.position, since.reported_as_of)),
        ]
        if incidents:
            after_where.append(t.c.incident_id.in_(sorted(incidents)))
        e = assertion_entries
        with self.engine.connect() as conn:
            after = conn.execute(
                sa.select(t.c.incident_id, t.c.assertion_id, e.c.entry)
                .join(e, e.c.state_id == t.c.id)
                .where(*after_where)
                .order_by(t.c.incident_id, t.c.assertion_id)
            ).all()
            before: dict[tuple[str, str], dict[str, Any]] = {}
            keys = [(row.incident_id, row.assertion_id) for row in after]
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for row in conn.execute(
                    sa.select(t.c.incident_id, t.c.assertion_id, e.c.entry)
                    .join(e, e.c.state_id == t.c.id)
                    .where(
                        _held_at(since.position, since.reported_as_of),
                        sa.tuple_(t.c.incident_id, t.c.assertion_id).in_(chunk),
                    )
                ):
                    before[(row.incident_id, row.assertion_id)] = row.entry
        return [(before.get((row.incident_id, row.assertion_id)), row.entry) for row in after]

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
        sort: Sort = DEFAULT_SORT,
    ) -> IndexPage:
        """The assertions valid at `position` (a cursor's own position wins), as reported by
        `reported_as_of` if given, a page at a time (`limit=None`: all of them, for an export)."""
        if cursor is not None:
            if cursor.sort != sort.name:
                raise InvalidCursor(_NOT_OURS)
            position = cursor.position
        with self.engine.connect() as conn:
            named = speakers_named(conn, filters.attributed_to) if filters.attributed_to else None
            where = _conditions(position, filters, incidents, narrowing, self.engine, reported_as_of, named)
            total, found = self._read_page(conn, where, limit, offset, cursor, narrowing, filters, incidents, sort)
        more = limit is not None and len(found) > limit
        found = found[:limit]
        next_cursor = Cursor(position, sort.key(found[-1]), sort.name).encode() if more and found else None
        return IndexPage(position, total, found, next_cursor)

    @staticmethod
    def _read_page(
        conn: Connection,
        where: list[Any],
        limit: int | None,
        offset: int,
        cursor: Cursor | None,
        narrowing: Narrowing,
        filters: Filters,
        incidents: Collection[str],
        sort: Sort,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The total of the matches and the page's entries (one more than `limit`, if there is more).

        The page is chosen from the narrow rows alone (by an index's entries where one serves), and
        only its own entries are read. Where the filters leave few rows, the matches are found once
        (materialized: found by the filters' own index, not by walking the order), then counted
        and sorted; else the total is a count of its own, which an index's entries answer, while
        the page walks an order.
        """
        columns = sort.columns
        one_pass = cursor is None and limit is not None and _few(filters, incidents, narrowing)
        labelled = [c.label(f"k{n}") for n, c in enumerate(columns)]
        if one_pass:
            matched = sa.select(t.c.id, *labelled).where(*where).cte("matched").prefix_with("MATERIALIZED")
            keys = [matched.c[f"k{n}"] for n in range(len(columns))]
            total_of = sa.select(sa.func.count()).select_from(matched).scalar_subquery().label("total")
            chosen = sa.select(matched.c.id, *(k.label(f"k{n}") for n, k in enumerate(keys)), total_of)
        else:
            keys = list(columns)
            chosen = sa.select(t.c.id, *labelled).where(*where)
        chosen = chosen.order_by(*(k.desc() if sort.descending else k for k in keys))
        if limit is not None:
            chosen = chosen.limit(limit + 1)
        if cursor is not None:
            row, after = sa.tuple_(*columns), sa.tuple_(*cursor.after)
            chosen = chosen.where(row < after if sort.descending else row > after)
        else:
            chosen = chosen.offset(offset)
        page = chosen.subquery()
        query = (
            sa.select(assertion_entries.c.entry, *((page.c.total,) if one_pass else ()))
            .join(page, page.c.id == assertion_entries.c.state_id)
            .order_by(*(page.c[f"k{n}"].desc() if sort.descending else page.c[f"k{n}"] for n in range(len(columns))))
        )
        count = sa.select(sa.func.count()).select_from(t).where(*where)
        if not one_pass:
            return conn.execute(count).scalar_one(), list(conn.execute(query).scalars())
        rows = conn.execute(query).all()
        if rows:
            return rows[0].total, [row.entry for row in rows]
        # Past the last match, or none: no row carried the total.
        return (conn.execute(count).scalar_one() if offset else 0), []
