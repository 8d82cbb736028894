"""Rebuilding timelines on demand: cut-offs turned into versions, snapshots, then the pure fold."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from app.projections.snapshots import SnapshotStore
from app.projections.timeline import CutOff, apply, empty_state, fold
from app.store import EventStore

SNAPSHOT_EVERY = 200

log = logging.getLogger("timeline.read")


def _log_unreadable(reported: set[int], incident_id: str, state: dict[str, Any]) -> None:
    """Log each unreadable event once per process (`reported` holds the positions already logged)."""
    for problem in state.get("unreadable", ()):
        if problem["position"] not in reported:
            reported.add(problem["position"])
            log.warning(
                "incident %s: the event at position %s (%s) cannot be read by this version and is left out "
                "of its timeline: %s",
                incident_id,
                problem["position"],
                problem["type"],
                problem["problem"],
            )


class Timelines:
    def __init__(self, store: EventStore, snapshots: SnapshotStore | None):
        self.store = store
        self.snapshots = snapshots
        self._unreadable_logged: set[int] = set()

    def version_for(self, incident_id: str, cut_off: CutOff, current_version: int) -> int:
        """The stream version a cut-off reflects (as-of = turn a time into a version, then read up to it)."""
        version = current_version
        if cut_off.as_of_version is not None:
            version = min(version, cut_off.as_of_version)
        if cut_off.as_of is not None:
            version = min(version, self.store.version_at(incident_id, cut_off.as_of))
        return version

    def state(
        self, incident_id: str, version: int, *, reported_as_of: datetime | None = None, keep_history: bool = False
    ) -> dict[str, Any]:
        """The folded state at `version`, optionally keeping only what was reported by `reported_as_of`."""
        if reported_as_of is not None or keep_history or self.snapshots is None:
            # Filtering by publication time keeps a subsequence, not a prefix, of the stream, and
            # snapshots hold prefixes; so does revision history, which snapshots leave out.
            events = self.store.read_stream(incident_id, up_to_version=version)
            if reported_as_of is not None:
                events = [event for event in events if CutOff(reported_as_of=reported_as_of).admits(event)]
            state = fold(incident_id, events, keep_history=keep_history)
            state["version"] = version
            _log_unreadable(self._unreadable_logged, incident_id, state)
            return state

        nearest = self.snapshots.nearest(incident_id, version)
        base_version, state = nearest if nearest else (0, empty_state(incident_id))
        events = self.store.read_stream(incident_id, after_version=base_version, up_to_version=version)
        # Snapshots sit at multiples of SNAPSHOT_EVERY, so any later read at or past a multiple
        # folds fewer than SNAPSHOT_EVERY events (plus the previous multiple, for reads a little
        # behind the head, such as as-of reads near the end of a long history).
        last_mark = version - version % SNAPSHOT_EVERY
        marks = {mark for mark in (last_mark - SNAPSHOT_EVERY, last_mark) if mark > base_version}
        for event in events:
            apply(state, event)
            if event.version in marks:
                self.snapshots.save(incident_id, event.version, state)
        state["version"] = version
        _log_unreadable(self._unreadable_logged, incident_id, state)
        return state
