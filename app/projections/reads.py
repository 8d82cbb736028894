"""The read service: every read of timelines — one incident's, what changed, across incidents, live —
goes through here once, so the routes only parse and render."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.leadership import Leadership
from app.projections.actors import ActorDirectory, with_actor_id, with_actor_ids
from app.projections.heads import HeadVersions
from app.projections.incident import apply_incident_event, empty_incident
from app.projections.index.follower import IndexFollower
from app.projections.index.projector import Projector
from app.projections.index.query import (
    DEFAULT_SORT,
    AssertionIndex,
    Cursor,
    Moment,
    Narrowing,
    Sort,
    sorted_answers,
)
from app.projections.reader import Timelines
from app.projections.timeline import CutOff, Filters, entries
from app.store import EventStore, IncidentNotFound, StoredEvent
from events.actors import ACTORS_STREAM, RESERVED_STREAMS, UnknownActor

# Fields of an entry that move whenever anything touches it, so they say nothing about what changed.
DIFF_IGNORED = {"last_version", "recorded_version"}


class CutOffsReversed(ValueError):
    def __init__(self, since: int, until: int, unit: str = "version"):
        self.since, self.until = since, until
        super().__init__(f"since ({unit} {since}) is after until ({unit} {until})")


def classify(
    pairs: Iterable[tuple[Mapping[str, Any] | None, dict[str, Any]]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(entry then or None, entry now) pairs as added, changed (field by field) and retracted."""
    added, changed, retracted = [], [], []
    for earlier, entry in pairs:
        if entry["status"] == "retracted" and (earlier is None or earlier["status"] != "retracted"):
            retracted.append(entry)
        if earlier is None:
            added.append(entry)
            continue
        fields = {
            name: {"before": earlier.get(name), "after": value}
            for name, value in entry.items()
            if name not in DIFF_IGNORED and earlier.get(name) != value
        }
        if fields and entry not in retracted:
            changed.append({"assertion_id": entry["assertion_id"], "fields": fields, "entry": entry})
    return added, changed, retracted


@dataclass(frozen=True, slots=True)
class TimelineRead:
    incident: dict[str, Any]
    version: int
    entries: list[dict[str, Any]]
    unreadable: list[dict[str, Any]]
    actors_version: int  # the registry version the entries' actor ids were resolved against


@dataclass(frozen=True, slots=True)
class Changes:
    since: int  # an incident's stream version, or a global log position across incidents
    until: int
    added: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    retracted: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AssertionPage:
    total: int
    assertions: list[dict[str, Any]]
    position: int = 0  # the log position the answer reflects
    next_cursor: str | None = None


class PositionNotReached(Exception):
    def __init__(self, wanted: int, head: int, *, waited: bool = False):
        self.wanted, self.head = wanted, head
        if waited:
            message = f"the assertion index reached only position {head} of {wanted} in time; try again shortly"
        else:
            message = f"position {wanted} is past the end of the log (position {head})"
        super().__init__(message)


# How long a read may spend bringing the assertion index up to the head before it answers at the
# position the index has reached (the answer says which).
CATCH_UP_SECONDS = 2.0
MIN_POSITION_SECONDS = 10.0  # how long `min_position` may wait, in all


class TimelineReads:
    """Entries carry the actor ids their names resolve to (`attributed_to_actor`, `actor_ids`),
    resolved when read: a timeline against the registry as it stands now, whatever its cut-off (a
    merge made today applies to what was recorded last year), an answer across incidents against
    the registry at the log position the answer reflects (so the same question there, and the same
    export, gets the same answer later)."""

    def __init__(
        self,
        store: EventStore,
        timelines: Timelines,
        follower: IndexFollower | None = None,
        actors: ActorDirectory | None = None,
        *,
        head_refresh_seconds: float = 0.0,
    ):
        self.store, self.timelines = store, timelines
        # 0 (the default): every read asks the database for the head.
        self.heads = HeadVersions(self._stream_head, refresh_seconds=head_refresh_seconds)
        self.actors = actors or ActorDirectory(store)
        self.follower = follower or IndexFollower(Projector(store, timelines), Leadership(store.engine))
        self.index = AssertionIndex(store.engine)

    def _stream_head(self, stream_id: str) -> int | None:
        version = self.store.stream_version(stream_id)
        # The registry exists, empty, before its first event: remembered as version 0.
        return version or 0 if stream_id == ACTORS_STREAM else version

    def current_version(self, incident_id: str) -> int:
        version = self.store.incident_version(incident_id)
        if version is None:
            raise IncidentNotFound(incident_id)
        return version

    def version(self, incident_id: str, cut_off: CutOff) -> int:
        """The stream version a cut-off reflects: what an ETag is made of, before anything is folded.

        The head is this process's copy (app.projections.heads says how stale it can be); a
        recorded-time cut-off still asks the database which version it falls at."""
        head = None if incident_id in RESERVED_STREAMS else self.heads.version(incident_id)
        if head is None:
            raise IncidentNotFound(incident_id)
        return self.timelines.version_for(incident_id, cut_off, head)

    def fresh_version(self, incident_id: str, cut_off: CutOff) -> int | None:
        """What `version` gives, if it can be told without the database; else None."""
        if cut_off.as_of is not None or incident_id in RESERVED_STREAMS:
            return None
        head = self.heads.fresh(incident_id)
        return None if head is None else self.timelines.version_for(incident_id, cut_off, head)

    def timeline(
        self, incident_id: str, version: int, cut_off: CutOff, filters: Filters, *, history: bool = False
    ) -> TimelineRead:
        state = self.timelines.state(incident_id, version, reported_as_of=cut_off.reported_as_of, keep_history=history)
        registry = self.actors.registry()
        shown = with_actor_ids(entries(state, filters), registry)
        return TimelineRead(state["incident"], version, shown, list(state.get("unreadable", ())), registry.version)

    def actors_version(self) -> int:
        """The actors registry's version: what a timeline's actor ids reflect (part of its ETag)."""
        return self.heads.version(ACTORS_STREAM) or 0

    def fresh_actors_version(self) -> int | None:
        """What `actors_version` gives, if it can be told without the database; else None."""
        return self.heads.fresh(ACTORS_STREAM)

    def changes(self, incident_id: str, since: CutOff, until: CutOff) -> Changes:
        """Entries added, changed and retracted between two cut-offs (by recorded time or version, and
        by publication time)."""
        current = self.current_version(incident_id)
        since_version = self.timelines.version_for(incident_id, since, current)
        until_version = self.timelines.version_for(incident_id, until, current)
        if since_version > until_version:
            raise CutOffsReversed(since_version, until_version)
        everything = Filters(include_retracted=True)
        registry = self.actors.registry()
        earlier_state = self.timelines.state(incident_id, since_version, reported_as_of=since.reported_as_of)
        at_since = with_actor_ids(entries(earlier_state, everything), registry)
        before = {e["assertion_id"]: e for e in at_since}
        later_state = self.timelines.state(incident_id, until_version, reported_as_of=until.reported_as_of)
        after = with_actor_ids(entries(later_state, everything), registry)
        added, changed, retracted = classify((before.get(entry["assertion_id"]), entry) for entry in after)
        return Changes(since_version, until_version, added, changed, retracted)

    def changes_across(
        self,
        since: CutOff,
        until: CutOff,
        *,
        since_position: int | None,
        until_position: int | None,
        incidents: set[str],
    ) -> Changes:
        """Entries added, changed and retracted across incidents between two cut-offs of the log
        (a position or a recorded time, and a publication time), read from the assertion index."""
        head = self.store.head_position()
        start = self._log_position(since, since_position, head)
        end = self._log_position(until, until_position, head)
        if start > end:
            raise CutOffsReversed(start, end, unit="position")
        reached = self.follower.reach(end, budget_seconds=CATCH_UP_SECONDS)
        if reached < end:
            raise PositionNotReached(end, reached, waited=True)
        pairs = self.index.changed_between(
            Moment(start, since.reported_as_of), Moment(end, until.reported_as_of), incidents=incidents
        )
        # Both sides against one registry, at the end: a name's actor id is not a change of the entry.
        registry = self.actors.at_position(end)
        resolved = [(then and with_actor_id(then, registry), with_actor_id(now, registry)) for then, now in pairs]
        added, changed, retracted = classify(resolved)
        for item in changed:
            item["incident_id"] = item["entry"]["incident_id"]
        ordered = [sorted_answers(found, DEFAULT_SORT) for found in (added, retracted)]
        changed.sort(key=lambda item: DEFAULT_SORT.key(item["entry"]))
        return Changes(start, end, ordered[0], changed, ordered[1])

    def _log_position(self, cut_off: CutOff, position: int | None, head: int) -> int:
        if position is not None:
            if position > head:
                raise PositionNotReached(position, head)
            return position
        if cut_off.as_of is not None:
            return self.store.position_at(cut_off.as_of)
        return head

    def assertions(
        self,
        cut_off: CutOff,
        filters: Filters,
        *,
        incidents: set[str],
        limit: int | None,
        offset: int = 0,
        as_of_position: int | None = None,
        min_position: int | None = None,
        cursor: Cursor | None = None,
        narrowing: Narrowing = Narrowing(),
        sort: Sort = DEFAULT_SORT,
        actor: str | None = None,
        linked: bool = False,
    ) -> AssertionPage:
        """Assertions across incidents at a cut-off, in the order asked (by when they happened unless
        told otherwise), a page at a time.

        Served from the assertion index, brought up to the head first (within CATCH_UP_SECONDS, and
        at least to `min_position`); a cut-off the index does not hold (a version of one
        incident's stream) is answered by folding every incident. `actor` keeps the claims made
        under any of that actor's names, as the actors registry held them at the answer's position.
        """
        head = self.store.head_position()
        if min_position is not None and min_position > head:
            raise PositionNotReached(min_position, head)
        if cut_off.as_of_version is not None:
            narrowing = self._speaking(narrowing, actor, head)
            incidents = self.with_linked(incidents) if linked else incidents
            page = self.fold_assertions(
                cut_off, filters, incidents=incidents, limit=limit, offset=offset, narrowing=narrowing, sort=sort
            )
            return AssertionPage(page.total, page.assertions, head)
        wanted = head if cursor is None else cursor.position
        if as_of_position is not None:
            wanted = min(wanted, as_of_position)
        if cut_off.as_of is not None:
            wanted = min(wanted, self.store.position_at(cut_off.as_of))
        reached = self.follower.reach(wanted, budget_seconds=CATCH_UP_SECONDS)
        if min_position is not None and reached < min(min_position, wanted):
            reached = self.follower.reach(min(min_position, wanted), budget_seconds=MIN_POSITION_SECONDS)
            if reached < min(min_position, wanted):
                raise PositionNotReached(min_position, reached, waited=True)
        position = min(reached, wanted) if cursor is None else cursor.position
        found = self.index.page(
            position,
            filters,
            incidents=self.with_linked(incidents, position) if linked else incidents,
            limit=limit,
            offset=offset,
            cursor=cursor,
            narrowing=self._speaking(narrowing, actor, position),
            reported_as_of=cut_off.reported_as_of,
            sort=sort,
        )
        resolved = with_actor_ids(found.assertions, self.actors.at_position(found.position))
        return AssertionPage(found.total, resolved, found.position, found.next_cursor)

    def with_linked(self, incidents: set[str], position: int | None = None) -> set[str]:
        """These incidents and those linked to them either way (`IncidentsLinked`, up to `position`)."""
        if not incidents:
            return incidents  # no incident named: every incident, linked or not
        linked = set(incidents)
        for event in self.store.read_types(["IncidentsLinked"]):
            if position is not None and event.position > position:
                continue
            other = event.data.get("related_incident_id")
            if event.incident_id in incidents and isinstance(other, str):
                linked.add(other)
            elif other in incidents:
                linked.add(event.incident_id)
        return linked

    def _speaking(self, narrowing: Narrowing, actor: str | None, position: int) -> Narrowing:
        """The narrowing to the claims `actor` made (under any of its names at `position`)."""
        if actor is None:
            return narrowing
        registry = self.actors.at_position(position)
        if registry.get(actor) is None:
            raise UnknownActor(actor)
        return replace(narrowing, speakers=registry.names_of(actor))

    def fold_assertions(
        self,
        cut_off: CutOff,
        filters: Filters,
        *,
        incidents: set[str],
        limit: int | None,
        offset: int,
        narrowing: Narrowing = Narrowing(),
        sort: Sort = DEFAULT_SORT,
    ) -> AssertionPage:
        """The same answer by folding every incident: the reference the index is held to."""
        found: list[dict[str, Any]] = []
        for incident_id, current, _opened in self.store.list_streams():
            if incidents and incident_id not in incidents:
                continue
            version = self.timelines.version_for(incident_id, cut_off, current)
            if version == 0:
                continue
            state = self.timelines.state(incident_id, version, reported_as_of=cut_off.reported_as_of)
            found.extend(
                {"incident_id": incident_id, **entry}
                for entry in entries(state, filters)
                if narrowing.admits(entry, filters)
            )
        found = sorted_answers(found, sort)
        shown = with_actor_ids(found[offset : None if limit is None else offset + limit], self.actors.registry())
        return AssertionPage(len(found), shown)

    def incident_locations(self, position: int) -> dict[str, Any]:
        """Every incident's location as the log held it at `position` (for exports that place entries)."""
        incidents: dict[str, dict[str, Any]] = {}
        for event in self.store.read_types(["IncidentOpened", "IncidentRevised"]):
            if event.position <= position:
                incident = incidents.setdefault(event.incident_id, empty_incident(event.incident_id))
                apply_incident_event(incident, event.type, event.data)
        return {incident_id: incident["location"] for incident_id, incident in incidents.items()}

    def events_after(self, incident_id: str, after_version: int, limit: int) -> list[StoredEvent]:
        """An incident's events after a version, for live streams."""
        return self.store.read_stream(incident_id, after_version=after_version, limit=limit)
