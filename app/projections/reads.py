"""The read service: every read of timelines — one incident's, what changed, across incidents, live —
goes through here once, so the routes only parse and render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.projections.reader import Timelines
from app.projections.timeline import CutOff, Filters, entries
from app.store import EventStore, IncidentNotFound, StoredEvent

# Fields of an entry that move whenever anything touches it, so they say nothing about what changed.
DIFF_IGNORED = {"last_version", "recorded_version"}


class CutOffsReversed(ValueError):
    def __init__(self, since: int, until: int):
        self.since, self.until = since, until
        super().__init__(f"since (version {since}) is after until (version {until})")


@dataclass(frozen=True, slots=True)
class TimelineRead:
    incident: dict[str, Any]
    version: int
    entries: list[dict[str, Any]]
    unreadable: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Changes:
    since_version: int
    until_version: int
    added: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    retracted: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AssertionPage:
    total: int
    assertions: list[dict[str, Any]]


class TimelineReads:
    def __init__(self, store: EventStore, timelines: Timelines):
        self.store, self.timelines = store, timelines

    def current_version(self, incident_id: str) -> int:
        version = self.store.stream_version(incident_id)
        if version is None:
            raise IncidentNotFound(incident_id)
        return version

    def version(self, incident_id: str, cut_off: CutOff) -> int:
        """The stream version a cut-off reflects: what an ETag is made of, before anything is folded."""
        return self.timelines.version_for(incident_id, cut_off, self.current_version(incident_id))

    def timeline(
        self, incident_id: str, version: int, cut_off: CutOff, filters: Filters, *, history: bool = False
    ) -> TimelineRead:
        state = self.timelines.state(incident_id, version, reported_as_of=cut_off.reported_as_of, keep_history=history)
        return TimelineRead(state["incident"], version, entries(state, filters), list(state.get("unreadable", ())))

    def changes(self, incident_id: str, since: CutOff, until: CutOff) -> Changes:
        """Entries added, changed and retracted between two cut-offs (by recorded time or version)."""
        current = self.current_version(incident_id)
        since_version = self.timelines.version_for(incident_id, since, current)
        until_version = self.timelines.version_for(incident_id, until, current)
        if since_version > until_version:
            raise CutOffsReversed(since_version, until_version)
        everything = Filters(include_retracted=True)
        before = {e["assertion_id"]: e for e in entries(self.timelines.state(incident_id, since_version), everything)}
        after = entries(self.timelines.state(incident_id, until_version), everything)
        added, changed, retracted = [], [], []
        for entry in after:
            earlier = before.get(entry["assertion_id"])
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
        return Changes(since_version, until_version, added, changed, retracted)

    def assertions(
        self, cut_off: CutOff, filters: Filters, *, incidents: set[str], limit: int, offset: int
    ) -> AssertionPage:
        """Assertions across incidents at a cut-off, ordered by when they happened, a page at a time."""
        found: list[dict[str, Any]] = []
        for incident_id, current, _opened in self.store.list_streams():
            if incidents and incident_id not in incidents:
                continue
            version = self.timelines.version_for(incident_id, cut_off, current)
            if version == 0:
                continue
            state = self.timelines.state(incident_id, version, reported_as_of=cut_off.reported_as_of)
            found.extend({"incident_id": incident_id, **entry} for entry in entries(state, filters))
        found.sort(
            key=lambda e: (
                e["occurred"].get("earliest") or "9999",
                e["occurred"].get("latest") or "9999",
                e["incident_id"],
                e["recorded_version"],
            )
        )
        return AssertionPage(len(found), found[offset : offset + limit])

    def events_after(self, incident_id: str, after_version: int, limit: int) -> list[StoredEvent]:
        """An incident's events after a version, for live streams."""
        return self.store.read_stream(incident_id, after_version=after_version, limit=limit)
