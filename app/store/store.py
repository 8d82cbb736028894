"""The append-only event store (SQLAlchemy Core), shared by SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import held_connection, utcnow
from app.proofs.leaves import plain
from app.proofs.sealing import KeyFor, open_data, private_names, seal_data, sealed_key_ids
from app.store import tables
from app.store.appenders import (
    Appended,
    DuplicateEvent,
    Idempotency,
    IdempotencyMismatch,
    PreparedEvent,
    StaleVersion,
)
from app.store.backends import LogWatch, store_backend
from app.store.listener import AppendListener
from app.store.people import PersonKeys
from app.store.tables import events, idempotency_keys, streams
from events.actors import RESERVED_STREAMS
from events.published import Published
from events.upcasting import upcast as upcast_to_current

log = logging.getLogger("timeline.store")

# SQLSTATEs of PostgreSQL refusing to turn a stored JSON string into text: 22P05 for \u0000,
# 22P02 for an unpaired surrogate escape.
_JSON_TEXT_REFUSED = {"22P05", "22P02"}

Upcast = Callable[[str, int, dict[str, Any]], tuple[int, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    reported_at: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: str | None = None
    reported_day: date | None = None  # when only the day is known; reported_at is then its end


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    incident_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    reported_at: datetime
    recorded_at: datetime
    reported_day: date | None = None

    @property
    def published(self) -> Published:
        """When it became public, as precisely as known (reported_at is the end of reported_day)."""
        return Published(self.reported_at, self.reported_day)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class AppendResult:
    incident_id: str
    version: int
    positions: list[int]
    recorded_at: datetime
    replayed: bool = False


class StoreError(Exception):
    pass


class IncidentNotFound(LookupError):
    def __init__(self, incident_id: str):
        self.incident_id = incident_id
        if incident_id in RESERVED_STREAMS:
            super().__init__(f"{incident_id!r} is the actors registry's stream, not an incident: see /v1/actors")
        else:
            super().__init__(f"there is no incident {incident_id!r}")


class VersionConflict(StoreError):
    def __init__(self, incident_id: str, expected: int, actual: int):
        self.incident_id, self.expected, self.actual = incident_id, expected, actual
        super().__init__(f"incident {incident_id!r} is at version {actual}, not the expected version {expected}")


class IdempotencyKeyReused(StoreError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different request")


class DuplicateEventId(StoreError):
    pass


SEALED_KEYS = "sealed_keys"  # in an event's metadata: the keys its sealed values need


class EventStore:
    """Append and read events; every method is one short transaction."""

    def __init__(
        self,
        engine: Engine,
        *,
        upcast: Upcast = upcast_to_current,
        on_append: Callable[[int, float], None] | None = None,
        open_sealed: bool = True,
    ):
        self.engine = engine
        self._upcast = upcast
        # Private persons' names are sealed as they are appended and opened as they are read
        # (app.proofs.sealing); a store that reads events as stored (the export, the tree) leaves them sealed.
        self.people = PersonKeys(engine)
        self._open_sealed = open_sealed
        self.origin = uuid.uuid4().hex  # names this store's appends to the processes that hear of them
        self._backend = store_backend(engine, self.origin)
        self._on_append = on_append  # told (events, seconds) of every append that committed
        self.appends_made = 0  # appends this store committed

    def scrub(self, tables: Sequence[str]) -> None:
        """Leave no deleted row's bytes in the database's pages (see StoreBackend.scrub)."""
        self._backend.scrub(self.engine, tables)

    def log_watch(self, listener: AppendListener | None) -> LogWatch | None:
        """A token that stays the same while nothing is committed to the log (app.projections.heads),
        given the process's started listener on PostgreSQL (None if that cannot be told)."""
        return self._backend.log_watch(self.engine, listener, lambda: self.appends_made)

    def listen(self, on_append: Callable[[str | None, int | None], None]) -> AppendListener | None:
        """A listener (not started) that calls `on_append(stream, version)` for other processes'
        appends as they commit; None where the database cannot tell (SQLite: poll instead)."""
        return self._backend.listener(self.engine, on_append)

    # -- writing -------------------------------------------------------------------------

    def append(
        self,
        incident_id: str,
        new_events: Sequence[NewEvent],
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        idempotency_scope: str = "",
    ) -> AppendResult:
        """Append a batch atomically; `expected_version=0` means the incident must not exist yet.

        The ordering and locking argument is in app.store.appenders.
        """
        if not new_events:
            raise ValueError("an append needs at least one event")
        idempotency = None
        if idempotency_key is not None:
            request_hash = _request_hash(incident_id, expected_version, new_events)
            idempotency = Idempotency(idempotency_scope, idempotency_key, request_hash)
        # Everything that does not need the lock is prepared before taking it, so the
        # serialized section stays as short as the database round trips allow.
        prepared = [
            _prepared(incident_id, str(event.event_id or uuid.uuid4()), event, self.people.key_for)
            for event in new_events
        ]
        count = len(prepared)

        def result_json(appended: Appended) -> dict[str, Any]:
            return _result_to_json(_result(incident_id, appended, count))

        started = time.perf_counter()
        try:
            with held_connection(self.engine) as pooled:
                appended = self._backend.append(
                    pooled.driver_connection,
                    incident_id,
                    prepared,
                    utcnow(),
                    expected_version,
                    idempotency,
                    result_json,
                )
        except StaleVersion as stale:
            # StaleVersion is raised only when an expected_version was given, and IdempotencyMismatch
            # only with a key.
            raise VersionConflict(incident_id, expected_version or 0, stale.actual) from None
        except IdempotencyMismatch:
            raise IdempotencyKeyReused(idempotency_key or "") from None
        except DuplicateEvent:
            raise DuplicateEventId("an event with one of these event ids is already stored") from None
        if appended.earlier is not None:
            return _result_from_json(appended.earlier)
        self.appends_made += 1  # read by LogWatch: it only has to change, so a lost update is harmless
        if self._on_append is not None:
            self._on_append(count, time.perf_counter() - started)
        return _result(incident_id, appended, count)

    def earlier_result(
        self,
        incident_id: str,
        new_events: Sequence[NewEvent],
        *,
        expected_version: int | None,
        idempotency_key: str,
        idempotency_scope: str = "",
    ) -> AppendResult | None:
        """The result of an earlier append under this key, if any (a mismatch raises IdempotencyKeyReused).

        A hint for callers that validate against current state before appending: append itself
        repeats this check under the lock, which is what guarantees a single copy.
        """
        request_hash = _request_hash(incident_id, expected_version, new_events)
        with self.engine.connect() as conn:
            return self._earlier_result(conn, idempotency_scope, idempotency_key, request_hash)

    def _earlier_result(self, conn, scope: str, key: str, request_hash: str) -> AppendResult | None:
        row = conn.execute(
            sa.select(idempotency_keys.c.request_hash, idempotency_keys.c.result).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        ).first()
        if row is None:
            return None
        if row.request_hash != request_hash:
            raise IdempotencyKeyReused(key)
        return _result_from_json(row.result)

    # -- reading -------------------------------------------------------------------------

    def read_stream(
        self,
        incident_id: str,
        *,
        after_version: int = 0,
        up_to_version: int | None = None,
        recorded_up_to: datetime | None = None,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """One incident's events in version order, optionally cut off by version or recorded time."""
        query = (
            sa.select(events)
            .where(events.c.incident_id == incident_id, events.c.version > after_version)
            .order_by(events.c.version)
        )
        if up_to_version is not None:
            query = query.where(events.c.version <= up_to_version)
        if recorded_up_to is not None:
            query = query.where(events.c.recorded_at <= recorded_up_to)
        if limit is not None:
            query = query.limit(limit)
        return self._fetch(query)

    def read_all(
        self,
        *,
        after_position: int = 0,
        limit: int = 100,
        up_to_position: int | None = None,
        incident_ids: Collection[str] | None = None,
        types: Collection[str] | None = None,
    ) -> list[StoredEvent]:
        """The global log in position order, a page at a time.

        Optionally only up to a position (inclusive), and only some incidents or event types
        (None: all of them).
        """
        query = sa.select(events).where(events.c.position > after_position).order_by(events.c.position).limit(limit)
        if up_to_position is not None:
            query = query.where(events.c.position <= up_to_position)
        if incident_ids is not None:
            query = query.where(events.c.incident_id.in_(list(incident_ids)))
        if types is not None:
            query = query.where(events.c.type.in_(list(types)))
        return self._fetch(query)

    def read_positions(self, positions: Collection[int]) -> list[StoredEvent]:
        """The events at these global positions, in position order (positions not in the log are left out)."""
        wanted = sorted(set(positions))
        found: list[StoredEvent] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found += self._fetch(sa.select(events).where(events.c.position.in_(chunk)).order_by(events.c.position))
        return found

    def position_of(self, incident_id: str, version: int) -> int | None:
        """The global position of a stream's event at `version` (None if there is none)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(events.c.position).where(events.c.incident_id == incident_id, events.c.version == version)
            ).scalar()

    def head_position(self) -> int:
        """The highest position committed so far (0 for an empty store)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(tables.head_position)).scalar_one()

    def stream_version(self, incident_id: str) -> int | None:
        """The stream's current version (an incident's, or a reserved stream's), or None if it does not exist."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(tables.stream_version(incident_id))).scalar()

    def incident_version(self, incident_id: str) -> int | None:
        """The incident's current version, or None if no such incident exists (a reserved stream,
        such as the actors registry's, is not one)."""
        return None if incident_id in RESERVED_STREAMS else self.stream_version(incident_id)

    def version_at(self, incident_id: str, moment: datetime) -> int:
        """The incident's version as recorded at `moment` (inclusive); 0 before it existed."""
        # recorded_at never decreases along an incident's versions, so the newest event recorded
        # by `moment` has the highest version: one step down the (incident_id, recorded_at,
        # version) index, whatever the length of the history.
        with self.engine.connect() as conn:
            version = conn.execute(
                sa.select(events.c.version)
                .where(events.c.incident_id == incident_id, events.c.recorded_at <= moment)
                .order_by(events.c.recorded_at.desc(), events.c.version.desc())
                .limit(1)
            ).scalar()
        return version or 0

    def position_at(self, moment: datetime) -> int:
        """The last global position recorded at `moment` (inclusive); 0 before the first event."""
        # recorded_at never decreases along the global position (app.store.appenders), so what
        # was recorded by `moment` is a prefix of the log: one step down the recorded_at index.
        with self.engine.connect() as conn:
            position = conn.execute(
                sa.select(events.c.position)
                .where(events.c.recorded_at <= moment)
                .order_by(events.c.recorded_at.desc(), events.c.position.desc())
                .limit(1)
            ).scalar()
        return position or 0

    def data_values(self, incident_id: str, event_type: str, key: str) -> set[str]:
        """The distinct values of `data[key]` over one incident's events of one type."""
        where = (events.c.incident_id == incident_id, events.c.type == event_type)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(events.c.data[key].as_string()).where(*where).distinct())
                return {row[0] for row in rows if row[0] is not None}
        except sa.exc.DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in _JSON_TEXT_REFUSED:
                raise
        # An older version stored text PostgreSQL's JSON operators refuse to turn into text (a
        # \u0000 or a lone surrogate) somewhere in this incident: read the documents as stored
        # and pick the key out here. Slower, and only ever for such an incident.
        log.warning("incident %s holds an event PostgreSQL cannot read %r from; reading it as stored", incident_id, key)
        with self.engine.connect() as conn:
            documents = conn.execute(sa.select(events.c.data).where(*where)).scalars()
            return {str(data[key]) for data in documents if isinstance(data, dict) and data.get(key) is not None}

    def existing_event_ids(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids are already stored."""
        with self.engine.connect() as conn:
            return self._backend.existing_event_ids(conn, event_ids)

    def read_types(self, event_types: Sequence[str], *, incident_id: str | None = None) -> list[StoredEvent]:
        """Events of the given types, across incidents or in one, in position order."""
        query = sa.select(events).where(events.c.type.in_(event_types)).order_by(events.c.position)
        if incident_id is not None:
            query = query.where(events.c.incident_id == incident_id)
        return self._fetch(query)

    def list_streams(self) -> list[tuple[str, int, datetime]]:
        """Every incident id with its current version and when it was opened (not the reserved streams)."""
        with self.engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    sa.select(
                        streams.c.incident_id,
                        sa.func.coalesce(tables.stream_version(streams.c.incident_id), 0),
                        streams.c.opened_at,
                    )
                    .where(streams.c.incident_id.not_in(sorted(RESERVED_STREAMS)))
                    .order_by(streams.c.incident_id)
                )
            ]

    def _fetch(self, query) -> list[StoredEvent]:
        with self.engine.connect() as conn:
            rows: list[Sequence[Any]] = list(conn.execute(query).all())
        if self._open_sealed:
            rows = self._opened(rows)
        return [event_from_row(row, self._upcast) for row in rows]

    def _opened(self, rows: list[Sequence[Any]]) -> list[Sequence[Any]]:
        """Rows with their sealed values opened (read [erased] where the person's key is gone):
        the rows of events naming a private person say so in their metadata's `sealed_keys`."""
        wanted = {key for row in rows if isinstance(row[7], dict) for key in row[7].get(SEALED_KEYS) or ()}
        if not wanted:
            return rows
        keys = self.people.lookup_many(wanted)
        opened = []
        for row in rows:
            if isinstance(row[7], dict) and row[7].get(SEALED_KEYS) and isinstance(row[6], dict):
                row = (*row[:6], open_data(row[6], keys.get, event_id=row[3]), *row[7:])
            opened.append(row)
        return opened


def _prepared(incident_id: str, event_id: str, event: NewEvent, key_for: KeyFor) -> PreparedEvent:
    written, extra = dict(event.data), dict(event.metadata)
    if private_names(written):
        written = seal_data(written, key_for, event_id=event_id)
        extra[SEALED_KEYS] = sorted(sealed_key_ids(written))
    return PreparedEvent(
        event_id,
        event.type,
        event.schema_version,
        _as_stored(written),
        _as_stored(extra),
        event.reported_at,
        event.reported_day,
    )


def _as_stored(value: dict[str, Any]) -> str:
    """The JSON text an event's data (or metadata) is stored as. Plain JSON (app.proofs.leaves.plain:
    string keys, no floats, no integer past I-JSON, no lone surrogate), the usual event, is written
    by orjson, several times faster than the standard library; anything else as the standard
    library writes it, except a float that is not a number (NaN, an infinity): no JSON holds one
    and the log's tree could never hash it, so the event is refused before anything is written."""
    if not value:
        return "{}"
    if plain(value):
        return orjson.dumps(value).decode()
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise ValueError("an event cannot hold NaN or an infinity: JSON has no such number") from None


def event_from_row(row: Sequence[Any], upcast: Upcast = upcast_to_current) -> StoredEvent:
    """A whole row of the events table (`sa.select(events)`) as the stored event it holds, brought to
    the current schema. The table's columns are StoredEvent's fields in order (tests/unit/
    test_store_rows.py holds the two together), so the row is unpacked by position: reading eleven
    columns by name costs a row about 7 µs, a quarter of a read_all page's time (measured by
    benchmarks/assertions.py's read_all table)."""
    position, incident_id, version, event_id, type_name, stored_version, stored_data, *rest = row
    schema_version, data = upcast(type_name, stored_version, stored_data)
    return StoredEvent(position, incident_id, version, event_id, type_name, schema_version, data, *rest)


def _request_hash(incident_id: str, expected_version: int | None, new_events: Sequence[NewEvent]) -> str:
    canonical = json.dumps(
        {
            "incident_id": incident_id,
            "expected_version": expected_version,
            "events": [
                {
                    "type": event.type,
                    "schema_version": event.schema_version,
                    "data": event.data,
                    "reported_at": event.reported_at.isoformat() if event.reported_at else None,
                    **({"reported_day": event.reported_day.isoformat()} if event.reported_day else {}),
                }
                for event in new_events
            ],
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _result(incident_id: str, appended: Appended, count: int) -> AppendResult:
    positions = list(range(appended.first_position, appended.first_position + count))
    return AppendResult(incident_id, appended.version, positions, appended.recorded_at)


def _result_to_json(result: AppendResult) -> dict[str, Any]:
    return {
        "incident_id": result.incident_id,
        "version": result.version,
        "positions": result.positions,
        "recorded_at": result.recorded_at.isoformat(),
    }


def _result_from_json(data: dict[str, Any]) -> AppendResult:
    return AppendResult(
        data["incident_id"],
        data["version"],
        list(data["positions"]),
        datetime.fromisoformat(data["recorded_at"]),
        replayed=True,
    )
