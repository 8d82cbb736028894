"""The actors registry on the read side: folded from its stream once per version, and the actor
ids it gives the entries that reads return (beside the names as written)."""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from app.store import EventStore, StoredEvent
from events.actors import ACTORS_STREAM, Registry

# Registries at earlier positions kept for answers at a past position (exports are asked for again).
PAST_REGISTRIES = 32


class ActorDirectory:
    """The registry as the log holds it. Every read asks the stream's version (one indexed row) and
    folds again only when it has moved; the registry is small (names, not assertions)."""

    def __init__(self, store: EventStore):
        self.store = store
        self._lock = threading.Lock()
        # The stream's events and their fold, replaced together and never changed in place: a
        # reader holding the pair goes on with a consistent registry while another folds anew.
        self._folded: tuple[tuple[StoredEvent, ...], Registry] = ((), Registry())
        self._past: OrderedDict[int, Registry] = OrderedDict()

    def version(self) -> int:
        """The registry stream's version (0 before anything was registered)."""
        return self.store.stream_version(ACTORS_STREAM) or 0

    def registry(self) -> Registry:
        """The registry as it stands now (at least at the version the stream had when this was called)."""
        return self._current()[1]

    def at_position(self, position: int) -> Registry:
        """The registry as the log held it at a global position at or below the head: for answers
        that name the position they reflect, so that the same question there gets the same answer."""
        events, registry = self._current()
        count = bisect.bisect_right([event.position for event in events], position)
        if count == len(events):
            return registry
        # A prefix of the stream never changes (append-only), so its fold is kept by its length.
        with self._lock:
            past = self._past.pop(count, None) or Registry.fold(events[:count])
            self._past[count] = past
            while len(self._past) > PAST_REGISTRIES:
                self._past.popitem(last=False)
        return past

    def _current(self) -> tuple[tuple[StoredEvent, ...], Registry]:
        version = self.version()
        folded = self._folded
        if folded[1].version >= version:
            return folded
        with self._lock:
            folded = self._folded  # another thread may have folded this far while this one waited
            if folded[1].version < version:
                new = self.store.read_stream(ACTORS_STREAM, after_version=len(folded[0]), up_to_version=version)
                events = (*folded[0], *new)
                folded = self._folded = (events, Registry.fold(events))
            return folded


def with_actor_ids(entries: Iterable[Mapping[str, Any]], registry: Registry) -> list[dict[str, Any]]:
    """Entries (new dicts) with `attributed_to_actor` beside `attributed_to` and `actor_ids` beside
    `actors`: the live actor each name as written resolves to, or None."""
    return [with_actor_id(entry, registry) for entry in entries]


def with_actor_id(entry: Mapping[str, Any], registry: Registry) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in entry.items():
        if name in ("attributed_to_actor", "actor_ids"):
            continue  # resolved again, against this registry
        resolved[name] = value
        if name == "attributed_to":
            resolved["attributed_to_actor"] = registry.resolve(value)
        elif name == "actors":
            resolved["actor_ids"] = [registry.resolve(actor) for actor in value or ()]
    return resolved
