"""The projector: keeps the assertion index following the global log.

Why the index answers exactly what the fold answers. The fold of an incident's events up to a
position P gives each assertion one entry. The projector applies the same fold (app.projections.
timeline.apply), event by event in position order, to each incident's state, and after each event
renders the assertions that event can change (the ones it names); a rendered entry that differs
from the one before becomes a new row from that event's position, and closes the previous row
there. So for every P, the rows with from_position <= P < to_position are the fold's entries at P,
rendered by the same function.

Publication time. What had been reported by a time T is the fold of the events reported by T, in
version order: a subsequence of the stream, not a prefix, so each row also holds for a span of
publication times (tables.py). After each event, the assertions it names get their spans again: in
the common case (the event is reported no earlier than the start of the assertion's last span and
than the recording of every assertion it names) the last span splits at the event's time, the
newer part holding the entry as now rendered, because for every T from there on the subsequence
is the previous one plus this event. Otherwise the assertion's spans are folded afresh from its
own events (those naming it, and the recordings of the assertions named with it in a dispute),
one fold per publication time among them. Spans that did not change stay open; the others close
at the event's position and their successors open there.

THE ORDERING DECISION OF THE INDEX. Rows are written in batches of consecutive positions after
the checkpoint, and the checkpoint moves to the batch's last position in the same transaction,
as its first statement, and only if it still holds the position the batch started from (a
compare-and-set). So a crash anywhere loses the whole batch or none of it (no event skipped or
applied twice), and two projectors that read the same checkpoint cannot both write: the second
waits on the checkpoint row (PostgreSQL's row lock, SQLite's single writer) and then finds it
moved, rolls back and drops what it had folded. The log it follows is gap-free and becomes visible
in position order (app.store.appenders), so reading after the checkpoint never misses an event.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db import writer
from app.projections.index.query import LAST, first_reported_key, recorded_key, speaker_key
from app.projections.index.search import forget_all, forget_closed, forget_generation, remember, search_text, storable
from app.projections.index.tables import (
    PROJECTED,
    assertion_entries,
    assertion_index_checkpoint,
    assertion_speakers,
    assertion_state_outlets,
    assertion_states,
    reported_key,
)
from app.projections.reader import Timelines
from app.projections.timeline import PROJECTION_VERSION, apply, fold, render_entry
from app.store import EventStore, StoredEvent

log = logging.getLogger("timeline.index")

# The index's own version and the fold's: either changing rebuilds the index from the log.
# 2: search_text; 3: publication-time spans; 4: entries apart, sort keys
INDEX_VERSION = PROJECTION_VERSION * 1000 + 4
BATCH = 1000
# The folded incidents kept between batches, counted in assertions (an incident's state and open
# spans grow with them, ~15 KB each in memory): ~75 MB at most. A projector far behind the head (a
# rebuild) reads an incident's state again when it comes back to it, from its snapshot.
CACHED_ASSERTIONS = 5_000


STATE_COLUMNS = tuple(column.name for column in assertion_states.columns if column.name != "id")


def forget_rows(conn: Connection, generation: int | None = None) -> None:
    """Delete the index's rows, of one generation or of every one, with all that is read off them."""
    if generation is None:
        forget_all(conn)
        for table in PROJECTED:
            conn.execute(sa.delete(table))
        return
    forget_generation(conn, generation)  # first: SQLite's contentless search is told the words again
    t = assertion_states
    ids = sa.select(t.c.id).where(t.c.generation == generation)
    conn.execute(sa.delete(assertion_state_outlets).where(assertion_state_outlets.c.state_id.in_(ids)))
    conn.execute(sa.delete(assertion_entries).where(assertion_entries.c.state_id.in_(ids)))
    conn.execute(sa.delete(assertion_speakers).where(assertion_speakers.c.generation == generation))
    conn.execute(sa.delete(t).where(t.c.generation == generation))


class CheckpointMoved(Exception):
    """Another projector wrote this batch first."""


@dataclass(frozen=True, slots=True)
class Progress:
    position: int  # the position the index covers
    head: int  # the log's head when last looked at

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


@dataclass(slots=True)
class Span:
    """An assertion's entry over a span of publication times, as the index holds it now."""

    reported_from: str
    reported_to: str | None
    entry: dict[str, Any]
    row: dict[str, Any] | None = field(default=None, compare=False)  # its row, until the batch is written


@dataclass(slots=True)
class IncidentCursor:
    """What the projector keeps of an incident between events: the fold's state and the open spans."""

    state: dict[str, Any]
    spans: dict[str, list[Span]]


class FoldedIncidents:
    """The incidents' cursors kept between batches, the least recently used dropped first, within a
    budget of assertions."""

    def __init__(self, budget: int):
        self.budget = budget
        self._cursors: OrderedDict[str, IncidentCursor] = OrderedDict()
        self._weights: dict[str, int] = {}
        self._weight = 0

    def get(self, incident_id: str) -> IncidentCursor | None:
        return self._cursors.get(incident_id)

    def keep(self, incident_id: str, cursor: IncidentCursor) -> None:
        self._weight -= self._weights.pop(incident_id, 0)
        weight = 1 + len(cursor.state["assertions"])
        self._cursors[incident_id] = cursor
        self._cursors.move_to_end(incident_id)
        self._weights[incident_id] = weight
        self._weight += weight
        while self._weight > self.budget and self._cursors:
            dropped, _ = self._cursors.popitem(last=False)
            self._weight -= self._weights.pop(dropped)

    def clear(self) -> None:
        self._cursors.clear()
        self._weights.clear()
        self._weight = 0

    def __len__(self) -> int:
        return len(self._cursors)


def state_row(
    incident_id: str,
    assertion_id: str,
    position: int,
    entry: Mapping[str, Any],
    reported_from: str,
    reported_to: str | None,
    generation: int,
) -> dict[str, Any]:
    """The index row for an entry rendered at `position` (its columns are read off the entry), with
    the entry and its words (written to assertion_entries)."""
    occurred = entry["occurred"]
    return {
        "incident_id": incident_id,
        "assertion_id": assertion_id,
        "from_position": position,
        "to_position": None,
        "reported_from": reported_from,
        "reported_to": reported_to,
        "generation": generation,
        "kind": storable(entry["kind"]),
        "earliest": occurred.get("earliest"),
        "latest": occurred.get("latest"),
        "earliest_key": occurred.get("earliest") or LAST,
        "latest_key": occurred.get("latest") or LAST,
        "precision": occurred.get("precision"),
        "attributed_to_folded": storable((entry["attributed_to"] or "").lower()),
        "status": entry["status"],
        "rank": entry["rank"],
        "disputed": bool(entry["disputed_by"]),
        "disputes": bool(entry["disputes"]),
        "source_count": len(entry["sources"]),
        "recorded_version": entry["recorded_version"],
        "first_reported_at": storable(entry["first_reported_at"]) if entry["first_reported_at"] else None,
        "first_reported_key": first_reported_key(entry),
        "speaker_key": speaker_key(entry),
        "recorded_key": recorded_key(entry),
        "entry": {"incident_id": incident_id, **entry},
        "search_text": search_text(entry),
    }


def rendered(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as a timeline renders it, sharing nothing with the state the fold goes on changing
    (a pickle round trip: the same as a deep copy of plain data, several times faster)."""
    copied: dict[str, Any] = pickle.loads(pickle.dumps(render_entry(entry), pickle.HIGHEST_PROTOCOL))
    return copied


def named_assertions(event: StoredEvent) -> set[str]:
    """The assertions an event can change: those it names."""
    return {
        value for value in (event.data.get("assertion_id"), event.data.get("by_assertion_id")) if isinstance(value, str)
    }


def merged(spans: list[Span]) -> list[Span]:
    """Neighbouring spans with the same entry as one."""
    out: list[Span] = []
    for span in spans:
        if out and out[-1].entry == span.entry and out[-1].reported_to == span.reported_from:
            out[-1] = Span(out[-1].reported_from, span.reported_to, out[-1].entry)
        else:
            out.append(span)
    return out


def split_last(spans: list[Span], at: str, entry: dict[str, Any]) -> list[Span]:
    """The spans after an event reported at `at` that changes the entry from then on only."""
    if not spans:
        return [Span(at, None, entry)]
    last = spans[-1]
    head = [*spans[:-1], Span(last.reported_from, at, last.entry)] if at > last.reported_from else spans[:-1]
    return merged([*head, Span(at, None, entry)])


def folded_spans(incident_id: str, assertion_id: str, events: Sequence[StoredEvent]) -> list[Span]:
    """An assertion's spans folded from its own events (the incident's, in version order)."""
    named = [named_assertions(event) for event in events]
    together = {other for names in named if assertion_id in names for other in names}
    own = [
        (reported_key(event.reported_at), event)
        for event, names in zip(events, named, strict=True)
        if assertion_id in names or (event.type == "AssertionRecorded" and event.data.get("assertion_id") in together)
    ]
    times = sorted({moment for moment, _ in own})
    spans: list[Span] = []
    for n, moment in enumerate(times):
        state = fold(incident_id, [event for reported, event in own if reported <= moment])
        entry = state["assertions"].get(assertion_id)
        if entry is not None:
            spans.append(Span(moment, times[n + 1] if n + 1 < len(times) else None, rendered(entry)))
    return merged(spans)


class Projector:
    """Projects the log into one generation of the index: the live one (the default), or a
    rebuild's (`generation=`), which only app.projections.index.rebuild swaps in."""

    def __init__(self, store: EventStore, timelines: Timelines, *, batch: int = BATCH, generation: int | None = None):
        self.store = store
        self.engine: Engine = store.engine
        self.timelines = timelines
        self.batch = batch
        self.generation = generation
        self._states = FoldedIncidents(CACHED_ASSERTIONS)
        self._states_generation: int | None = None  # the generation the cached states were projected into
        # One catch-up at a time in this process (the checkpoint's compare-and-set guards across
        # processes; this only saves folding the same batch twice here).
        self._lock = threading.Lock()
        self._version_checked = generation is not None  # a rebuild's generation is made current

    # -- the checkpoint -------------------------------------------------------------------------

    def _followed(self) -> Any:
        c = assertion_index_checkpoint.c
        return c.live.is_(True) if self.generation is None else c.id == self.generation

    def checkpoint(self) -> tuple[int, int]:
        """The generation this projector writes and the position it covers (0 if made by another version)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(assertion_index_checkpoint).where(self._followed()).limit(1)).first()
        if row is None or row.projection_version != INDEX_VERSION:
            return (row.id if row is not None else 0, 0)
        return (row.id, row.position)

    def position(self) -> int:
        return self.checkpoint()[1]

    def progress(self) -> Progress:
        return Progress(self.position(), self.store.head_position())

    def ensure_current_version(self) -> None:
        """Start the index afresh if it was made by another version of the projection (or never)."""
        try:
            self._reset_unless_current()
        except sa.exc.IntegrityError:
            pass  # another process created the checkpoint row at the same moment: it is there now
        self._states.clear()

    def _reset_unless_current(self) -> None:
        with writer(self.engine.connect()) as conn, conn.begin():
            row = conn.execute(
                sa.select(assertion_index_checkpoint).where(assertion_index_checkpoint.c.live.is_(True)).limit(1)
            ).first()
            if row is not None and row.projection_version == INDEX_VERSION:
                return
            if row is not None:
                log.info(
                    "the assertion index was made by version %s; rebuilding it for %s",
                    row.projection_version,
                    INDEX_VERSION,
                )
            forget_rows(conn)
            conn.execute(sa.delete(assertion_index_checkpoint))
            conn.execute(
                sa.insert(assertion_index_checkpoint).values(
                    id=1, position=0, projection_version=INDEX_VERSION, live=True
                )
            )
        self._states.clear()

    # -- following the log ----------------------------------------------------------------------

    def catch_up(self, *, up_to: int | None = None, budget_seconds: float | None = None) -> int:
        """Project batches until the index reaches `up_to` (default: the head), or the budget runs out.

        Returns the position the index covers.
        """
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        with self._lock:
            if not self._version_checked:
                self.ensure_current_version()
                self._version_checked = True
            generation, position = self.checkpoint()
            target = self.store.head_position() if up_to is None else up_to
            while position < target:
                if deadline is not None and time.monotonic() > deadline:
                    break
                if generation != self._states_generation:
                    self._states.clear()  # projected into another generation: nothing to reuse
                    self._states_generation = generation
                events = self.store.read_all(after_position=position, limit=self.batch, up_to_position=target)
                if not events:
                    break
                try:
                    self._write(generation, position, events)
                except CheckpointMoved:
                    self._states.clear()
                    moved_generation, moved_to = self.checkpoint()
                    if moved_generation == generation and moved_to <= position:
                        # Not moved on by a peer: the checkpoint now belongs to another version.
                        log.warning("the assertion index is kept by another version of the service; not projecting")
                        self._version_checked = self.generation is not None
                        return moved_to
                    # A peer wrote this batch, or a rebuild was swapped in: go on from there.
                    generation, position = moved_generation, moved_to
                    continue
                except BaseException:
                    self._states.clear()  # what was folded in memory was not written
                    raise
                position = events[-1].position
            return position

    def _write(self, generation: int, start: int, events: Sequence[StoredEvent]) -> None:
        rows_in_order: list[dict[str, Any]] = []
        to_close: list[dict[str, Any]] = []  # rows open before the batch -> where they end
        written: list[Span] = []
        touched: dict[str, IncidentCursor] = {}
        for event in events:
            cursor = touched.get(event.incident_id) or self._cursor_before(event)
            touched[event.incident_id] = cursor
            state, spans = cursor.state, cursor.spans
            apply(state, event)
            present = sorted(named_assertions(event) & state["assertions"].keys())
            if not present:
                continue
            at = reported_key(event.reported_at)
            # Reported no earlier than every assertion it names was first recorded (by the spans as
            # they stood before this event): from `at` on, all of them take the event.
            after_recordings = all(at >= spans[name][0].reported_from for name in present if spans.get(name))
            history: Sequence[StoredEvent] | None = None  # the incident's events, read if needed
            for name in present:
                old = spans.get(name, [])
                if after_recordings and (not old or at >= old[-1].reported_from):
                    new = split_last(old, at, rendered(state["assertions"][name]))
                else:
                    if history is None:
                        history = self.store.read_stream(event.incident_id, up_to_version=event.version)
                    new = folded_spans(event.incident_id, name, history)
                keep = 0
                while keep < min(len(old), len(new)) and old[keep] == new[keep]:  # `row` takes no part
                    keep += 1
                for span in old[keep:]:
                    if span.row is not None:  # written in this batch: it ends here
                        span.row["to_position"] = event.position
                    else:
                        to_close.append(
                            {
                                "k_incident": event.incident_id,
                                "k_assertion": name,
                                "k_from": span.reported_from,
                                "k_to": event.position,
                                "k_generation": generation,
                            }
                        )
                for span in new[keep:]:
                    span.row = state_row(
                        event.incident_id,
                        name,
                        event.position,
                        span.entry,
                        span.reported_from,
                        span.reported_to,
                        generation,
                    )
                    rows_in_order.append(span.row)
                    written.append(span)
                spans[name] = [*old[:keep], *new[keep:]]

        # BEGIN IMMEDIATE on SQLite: the write lock before the compare-and-set reads the checkpoint.
        with writer(self.engine.connect()) as conn, conn.begin():
            moved = conn.execute(
                sa.update(assertion_index_checkpoint)
                .where(
                    assertion_index_checkpoint.c.id == generation,
                    assertion_index_checkpoint.c.position == start,
                    assertion_index_checkpoint.c.projection_version == INDEX_VERSION,
                    self._followed(),  # the live projector stops writing a generation swapped out
                )
                .values(position=events[-1].position)
            )
            if moved.rowcount != 1:
                raise CheckpointMoved()
            self._close(conn, to_close)
            forget_closed(conn, to_close)
            self._insert(conn, rows_in_order)
            self._name_speakers(conn, generation, rows_in_order)
        for span in written:
            span.row = None  # in the database now
        for incident_id, cursor in touched.items():
            self._states.keep(incident_id, cursor)

    def _cursor_before(self, event: StoredEvent) -> IncidentCursor:
        cursor = self._states.get(event.incident_id)
        if cursor is not None and cursor.state["version"] == event.version - 1:
            return cursor
        state = self.timelines.state(event.incident_id, event.version - 1)
        spans = self._open_spans(event.incident_id, self._states_generation) if event.version > 1 else {}
        return IncidentCursor(state, spans)

    def _open_spans(self, incident_id: str, generation: int | None) -> dict[str, list[Span]]:
        """The spans the index holds open for an incident (the rows not yet replaced)."""
        t, e = assertion_states, assertion_entries
        spans: dict[str, list[Span]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(
                sa.select(t.c.assertion_id, t.c.reported_from, t.c.reported_to, e.c.entry)
                .join(e, e.c.state_id == t.c.id)
                .where(t.c.generation == generation, t.c.incident_id == incident_id, t.c.to_position.is_(None))
                .order_by(t.c.assertion_id, t.c.reported_from)
            ):
                entry = {name: value for name, value in row.entry.items() if name != "incident_id"}
                spans.setdefault(row.assertion_id, []).append(Span(row.reported_from, row.reported_to, entry))
        return spans

    @staticmethod
    def _close(conn: Connection, to_close: Sequence[Mapping[str, Any]]) -> None:
        if not to_close:
            return
        conn.execute(
            sa.update(assertion_states)
            .where(
                assertion_states.c.generation == sa.bindparam("k_generation"),
                assertion_states.c.incident_id == sa.bindparam("k_incident"),
                assertion_states.c.assertion_id == sa.bindparam("k_assertion"),
                assertion_states.c.reported_from == sa.bindparam("k_from"),
                assertion_states.c.to_position.is_(None),
            )
            .values(to_position=sa.bindparam("k_to")),
            list(to_close),
        )

    @staticmethod
    def _name_speakers(conn: Connection, generation: int, rows: Sequence[Mapping[str, Any]]) -> None:
        """Add the names the batch's rows give speakers that the generation did not hold yet."""
        named = {(row["attributed_to_folded"], row["speaker_key"]) for row in rows if row["speaker_key"] is not None}
        if not named:
            return
        s = assertion_speakers
        held: set[tuple[str, str]] = set()
        names = sorted({name for name, _ in named})
        for start in range(0, len(names), 500):
            held.update(
                (row.attributed_to_folded, row.speaker_key)
                for row in conn.execute(
                    sa.select(s.c.attributed_to_folded, s.c.speaker_key).where(
                        s.c.generation == generation, s.c.attributed_to_folded.in_(names[start : start + 500])
                    )
                )
            )
        new = [
            {"generation": generation, "attributed_to_folded": name, "speaker_key": key}
            for name, key in sorted(named - held)
        ]
        if new:
            conn.execute(sa.insert(s), new)

    @staticmethod
    def _insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        # A plain many-row insert, then the new ids read back by each row's key (incident,
        # assertion, from_position, reported_from) among the generation's rows with ids past the
        # highest before it: an INSERT ... RETURNING that keeps the rows' order runs one statement
        # per row on SQLite. Every id given out after that highest one is higher (SQLite's rowid
        # under this write lock, PostgreSQL's sequence), and no one else writes this generation
        # while this transaction holds its checkpoint row.
        t = assertion_states
        highest = conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0))).scalar_one()
        conn.execute(sa.insert(t), [{name: row[name] for name in STATE_COLUMNS} for row in rows])
        generation = rows[0]["generation"]
        found = {
            (row.incident_id, row.assertion_id, row.from_position, row.reported_from): row.id
            for row in conn.execute(
                sa.select(t.c.id, t.c.incident_id, t.c.assertion_id, t.c.from_position, t.c.reported_from).where(
                    t.c.id > highest, t.c.generation == generation
                )
            )
        }
        ids = [
            found[(row["incident_id"], row["assertion_id"], row["from_position"], row["reported_from"])] for row in rows
        ]
        conn.execute(
            sa.insert(assertion_entries),
            [
                {"state_id": state_id, "entry": row["entry"], "search_text": row["search_text"]}
                for state_id, row in zip(ids, rows, strict=True)
            ],
        )
        remember(conn, generation, ids, rows)
        outlets = [
            {"state_id": state_id, "outlet_folded": outlet}
            for state_id, row in zip(ids, rows, strict=True)
            for outlet in sorted({storable(source["outlet"].lower()) for source in row["entry"]["sources"]})
        ]
        if outlets:
            conn.execute(sa.insert(assertion_state_outlets), outlets)
