"""Erasing a private person from the record without rewriting it (crypto-shredding).

Their name, and every text of an event naming them, is stored sealed under a key of their own
(app.proofs.sealing, app.store.people). An erasure records itself in each incident that named them
(an ErasureRecorded event naming the key, never the person) and destroys the key, so every sealed
value reads "[erased]" for good; it destroys the key of every stored report that named them (its text
and proposals are gone; what was accepted from it stays, with the name erased), then purges whatever
held what was read before: the timeline
snapshots of those incidents, the assertion index (rebuilt), the rendered timelines kept in this
process, and the deleted bytes left in the database's pages. The events themselves, and so the log's
Merkle tree and every checkpoint signed over it, do not change.

A report stored before reports were sealed (migration 0012) is kept as received and cannot be erased.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.intake.articles import Articles
from app.intake.tables import article_keys
from app.projections.index.rebuild import rebuild
from app.projections.index.search import TEXT_TABLES, compact
from app.projections.index.tables import PROJECTED
from app.projections.reader import Timelines
from app.store import EventStore, NewEvent
from app.store.store import SEALED_KEYS
from app.store.tables import person_keys, snapshots
from app.store.tree import as_stored

log = logging.getLogger("timeline.erasure")

# The tables whose deleted rows held what an erasure removes.
SCRUBBED = (
    person_keys.name,
    article_keys.name,
    snapshots.name,
    *(table.name for table in PROJECTED),
    *TEXT_TABLES,
)


class NobodyToErase(Exception):
    pass


@dataclass(frozen=True)
class Erased:
    key_id: str
    incidents: dict[str, list[int]]  # incident -> the positions of the events that named the person
    recorded: dict[str, int]  # incident -> the position of its ErasureRecorded
    versions: dict[str, int]  # incident -> its version once the erasure was recorded
    reports: list[str]  # the stored reports (article ids) that named them: their keys destroyed


class Erasures:
    def __init__(
        self, store: EventStore, timelines: Timelines, articles: Articles, *, forget_rendered: Callable[[], None]
    ):
        self.store, self.timelines, self.articles, self.forget_rendered = store, timelines, articles, forget_rendered

    def erase(self, name: str, reason: str, *, actor: str) -> Erased:
        key_id = self.store.people.key_id_of(name)
        if key_id is None:
            raise NobodyToErase(
                "no private person of that name is named in the record (names are matched as written, "
                "case and spacing aside); only a name an assertion's actors mark private can be erased"
            )
        named = self._events_sealed_under(key_id)
        # Recorded first, then destroyed: a failure in between leaves the key (the erasure can be
        # asked again), never an erasure the log does not tell of.
        recorded, versions = {}, {}
        for incident_id, positions in named.items():
            result = self.store.append(
                incident_id,
                [
                    NewEvent(
                        "ErasureRecorded",
                        {"key_id": key_id, "reason": reason, "positions": positions},
                        metadata={"actor": actor},
                    )
                ],
            )
            recorded[incident_id], versions[incident_id] = result.positions[0], result.version
        with self.store.engine.begin() as conn:
            self.store.people.destroy(conn, key_id)
            reports = self.articles.erase_naming(conn, name)
        self._purge(list(named))
        log.info("erased the private person under key %s from %d incident(s)", key_id, len(named))
        return Erased(key_id, named, recorded, versions, reports)

    def _events_sealed_under(self, key_id: str) -> dict[str, list[int]]:
        as_written = EventStore(self.store.engine, upcast=as_stored, open_sealed=False)
        named: dict[str, list[int]] = {}
        after = 0
        while page := as_written.read_all(after_position=after, limit=1000):
            for event in page:
                if key_id in (event.metadata.get(SEALED_KEYS) or ()):
                    named.setdefault(event.incident_id, []).append(event.position)
            after = page[-1].position
        return named

    def _purge(self, incidents: list[str]) -> None:
        if self.timelines.snapshots is not None:
            self.timelines.snapshots.forget(incidents)
        self.forget_rendered()
        rebuild(self.store, self.timelines)  # every row made from what was read before, made again
        with self.store.engine.begin() as conn:
            compact(conn)
        self.store.scrub(SCRUBBED)
