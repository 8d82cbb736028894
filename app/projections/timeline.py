"""The timeline fold: an incident's events -> its timeline. Pure: no I/O, no clock.

The state is plain JSON (times as RFC 3339 strings) so that a snapshot stored in the database
and read back is exactly the state it was made from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from app.projections.incident import apply_incident_event, empty_incident
from events.admissible import clamped_time
from events.catalog import to_json_time
from events.dates import InvalidOccurred, Occurred, parse_occurred
from events.published import Published, parse_published

# Bump when the state's shape or the meaning of an event changes: stored snapshots made by
# another projection version are ignored and discarded.
PROJECTION_VERSION = 2  # 2: publication days kept as days (first_reported_at, first_reported_moment)

REVISABLE = ("occurred", "headline", "text", "kind", "attributed_to")


class FoldableEvent(Protocol):
    @property
    def position(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def reported_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class CutOff:
    """What a timeline reflects; each bound is inclusive. None everywhere means 'now'."""

    as_of: datetime | None = None
    as_of_version: int | None = None
    reported_as_of: datetime | None = None

    def admits(self, event: FoldableEvent) -> bool:
        return (
            (self.as_of_version is None or event.version <= self.as_of_version)
            and (self.as_of is None or event.recorded_at <= self.as_of)
            and (self.reported_as_of is None or event.reported_at <= self.reported_as_of)
        )


def empty_state(incident_id: str) -> dict[str, Any]:
    return {"incident": empty_incident(incident_id), "version": 0, "assertions": {}}


def fold(
    incident_id: str,
    events: Iterable[FoldableEvent],
    *,
    state: dict[str, Any] | None = None,
    keep_history: bool = False,
) -> dict[str, Any]:
    """Apply events, in version order, to `state` (changed in place) or to a new empty state."""
    state = empty_state(incident_id) if state is None else state
    for event in events:
        apply(state, event, keep_history=keep_history)
    return state


def apply(state: dict[str, Any], event: FoldableEvent, *, keep_history: bool = False) -> None:
    """Apply one event in place. Events naming an assertion the state does not hold are skipped:
    with a `reported_as_of` cut-off the assertion itself may not have been public yet.

    An event this code cannot read (stored by an older version that checked less) is kept out of
    the state and listed in `state["unreadable"]`, so the rest of the timeline still renders.
    """
    state["version"] = event.version
    try:
        _apply(state, event, keep_history)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        state.setdefault("unreadable", []).append(
            {
                "position": event.position,
                "version": event.version,
                "type": event.type,
                "problem": f"{type(error).__name__}: {error}",
            }
        )


def _apply(state: dict[str, Any], event: FoldableEvent, keep_history: bool) -> None:
    data = event.data
    if apply_incident_event(state["incident"], event.type, data):
        return
    assertions = state["assertions"]
    if event.type == "AssertionRecorded":
        # Two concurrent appends may record the same id (the check before appending is not
        # under the lock); the first recorded stays, as readers saw it first.
        if data["assertion_id"] not in assertions:
            assertions[data["assertion_id"]] = _new_entry(event)
        return
    entry = assertions.get(data.get("assertion_id"))
    if entry is None:
        return
    entry["last_version"] = event.version
    if event.type == "SourceAttached":
        _add_source(entry["sources"], data["source"])
        earlier = _first_published(event, [data["source"]])
        if _moment_key(earlier) < entry["first_reported_moment"]:
            entry["first_reported_at"], entry["first_reported_moment"] = earlier.text(), _moment_key(earlier)
    elif event.type == "AssertionDisputed":
        other = assertions.get(data["by_assertion_id"])
        if other is None:
            return
        _add_once(entry["disputed_by"], data["by_assertion_id"])
        _add_once(other["disputes"], data["assertion_id"])
        if data.get("note"):
            note = {"by": data["by_assertion_id"], "note": data["note"]}
            if note not in entry["dispute_notes"]:
                entry["dispute_notes"].append(note)
        other["last_version"] = event.version
    elif event.type == "AssertionRevised":
        changes = {name: value for name, value in data["changes"].items() if name in REVISABLE}
        before = {name: entry.get(name) for name in changes}
        entry.update(changes)
        entry["revision_count"] += 1
        if keep_history:
            entry.setdefault("revision_history", []).append(
                {
                    "version": event.version,
                    "recorded_at": to_json_time(event.recorded_at),
                    "reported_at": _published(event).text(),
                    "reason": data["reason"],
                    "before": before,
                    "after": changes,
                }
            )
    elif event.type == "AssertionRanked":
        entry["rank"] = data["rank"]
        entry["rank_reason"] = data.get("reason")
    elif event.type == "AssertionRetracted":
        entry["status"] = "retracted"
        entry["retraction"] = {
            "reason": data["reason"],
            "recorded_at": to_json_time(event.recorded_at),
            "reported_at": _published(event).text(),
        }


def _new_entry(event: FoldableEvent) -> dict[str, Any]:
    data = event.data
    first = _first_published(event, data["sources"])
    sources: list[dict[str, Any]] = []
    for source in data["sources"]:
        _add_source(sources, source)
    return {
        "assertion_id": data["assertion_id"],
        "kind": data["kind"],
        "occurred": data["occurred"],
        "headline": data["headline"],
        "text": data.get("text"),
        "attributed_to": data.get("attributed_to"),
        # A private person (sealed in the log) is named like anyone else once read, or "[erased]".
        "actors": [actor["name"] if isinstance(actor, dict) else actor for actor in data.get("actors", [])],
        "location": data.get("location"),
        "sources": sources,
        "status": "active",
        "retraction": None,
        "rank": "normal",
        "rank_reason": None,
        "disputes": [],
        "disputed_by": [],
        "dispute_notes": [],
        "revision_count": 0,
        "first_reported_at": first.text(),
        "first_reported_moment": _moment_key(first),
        "recorded_at": to_json_time(event.recorded_at),
        "position": event.position,
        "recorded_version": event.version,
        "last_version": event.version,
    }


def _published(event: FoldableEvent) -> Published:
    return Published(clamped_time(event.reported_at), getattr(event, "reported_day", None))


def _first_published(event: FoldableEvent, sources: Iterable[Mapping[str, Any]]) -> Published:
    """The earliest of the event's publication time and its sources', by the instant from which
    each certainly was public (a day counts from its end)."""
    times = [_published(event)]
    for source in sources:
        if not source.get("published_at"):
            continue
        try:
            times.append(parse_published(str(source["published_at"])))
        except ValueError:
            clamped = _clamped_published(str(source["published_at"]))
            if clamped is not None:  # else a text an older version let in that names no time
                times.append(clamped)
    return min(times, key=lambda published: published.moment)


def _clamped_published(text: str) -> Published | None:
    """A stored time past the ends of what can be shown (an older version let it in), at that end."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return Published(clamped_time(moment)) if moment.tzinfo is not None else None


def _moment_key(published: Published) -> str:
    """Sortable as text: fixed width, microseconds always given."""
    return published.moment.isoformat(timespec="microseconds")


def _source_key(source: Mapping[str, Any]) -> str:
    identity: str = source.get("url") or source["outlet"]
    return identity.strip().lower()


def _add_source(sources: list[dict[str, Any]], source: Mapping[str, Any]) -> None:
    """Deduplicate by URL, or by outlet when there is no URL; a later copy fills in missing fields."""
    key = _source_key(source)
    for existing in sources:
        if _source_key(existing) == key:
            for name, value in source.items():
                existing.setdefault(name, value)
            return
    sources.append(dict(source))


def _add_once(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


# -- reading the state as a timeline --------------------------------------------------------


@lru_cache(maxsize=65_536)
def occurred_of(edtf: str) -> Occurred | None:
    try:
        return parse_occurred(edtf)
    except InvalidOccurred:
        return None


@dataclass(frozen=True, slots=True)
class Filters:
    kinds: frozenset[str] = frozenset()
    occurred_from: date | None = None
    occurred_to: date | None = None
    include_retracted: bool = False
    attributed_to: str | None = None
    outlet: str | None = None

    def admit(self, entry: Mapping[str, Any], occurred: Occurred | None) -> bool:
        if self.kinds and entry["kind"] not in self.kinds:
            return False
        if entry["status"] == "retracted" and not self.include_retracted:
            return False
        if self.occurred_from and (occurred is None or occurred.latest < self.occurred_from):
            return False
        if self.occurred_to and (occurred is None or occurred.earliest > self.occurred_to):
            return False
        if self.attributed_to and self.attributed_to.lower() not in (entry.get("attributed_to") or "").lower():
            return False
        if self.outlet and not any(self.outlet.lower() == s["outlet"].lower() for s in entry["sources"]):
            return False
        return True


def entries(state: Mapping[str, Any], filters: Filters = Filters()) -> list[dict[str, Any]]:
    """The timeline's entries, ordered by earliest, then latest, then the recording position."""
    shown = []
    for entry in state["assertions"].values():
        occurred = occurred_of(entry["occurred"])
        if filters.admit(entry, occurred):
            shown.append((_sort_key(entry, occurred), render_entry(entry, occurred)))
    shown.sort(key=lambda pair: pair[0])
    return [rendered for _, rendered in shown]


def _sort_key(entry: Mapping[str, Any], occurred: Occurred | None) -> tuple[date, date, int]:
    if occurred is None:
        return (date.max, date.max, entry["position"])
    return (occurred.earliest, occurred.latest, entry["position"])


def render_entry(entry: Mapping[str, Any], occurred: Occurred | None = None) -> dict[str, Any]:
    occurred = occurred or occurred_of(entry["occurred"])
    rendered = {
        "assertion_id": entry["assertion_id"],
        "kind": entry["kind"],
        "occurred": occurred.as_dict() if occurred else {"edtf": entry["occurred"]},
        "headline": entry["headline"],
        "text": entry["text"],
        "attributed_to": entry["attributed_to"],
        "actors": entry["actors"],
        "location": entry["location"],
        "sources": entry["sources"],
        "corroboration": len(entry["sources"]),
        "status": entry["status"],
        "retraction": entry["retraction"],
        "rank": entry["rank"],
        "disputes": entry["disputes"],
        "disputed_by": entry["disputed_by"],
        "dispute_notes": entry["dispute_notes"],
        "revisions": {"count": entry["revision_count"]},
        "first_reported_at": entry["first_reported_at"],
        "recorded_at": entry["recorded_at"],
        "recorded_version": entry["recorded_version"],
        "last_version": entry["last_version"],
    }
    if "revision_history" in entry:
        rendered["revisions"]["history"] = entry["revision_history"]
    return rendered
