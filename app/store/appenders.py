"""The append path, on the driver connection of each backend: the store's hot path.

It bypasses SQLAlchemy's statement machinery (about 50 µs of Python a statement, and type
processing per row) for the few statements of an append; the tables are still SQLAlchemy's and
every read goes through SQLAlchemy Core.

THE ORDERING DECISION OF THE STORE. Global positions must be consecutive and must become visible
in position order: a follower that has read up to position p must never later find a committed
event with a position below p (an append that took p-1 but committed after p: the bug that cost
Marten years). So appends are serialized for the whole span from taking a position to COMMIT:
- SQLite: BEGIN IMMEDIATE takes the database's single write lock before anything is read.
- PostgreSQL: the first statement takes a transaction advisory lock (APPEND_LOCK), held until
  COMMIT or ROLLBACK; a concurrent append waits for it, and when it has it the first transaction is
  already committed and visible (PostgreSQL marks a transaction committed before it releases its
  locks), and each later statement, at READ COMMITTED, reads with a snapshot taken after that.
  This is the effect of LOCK TABLE ... IN EXCLUSIVE MODE, as the eventsourcing library takes it,
  without locking out the readers of the table. Were an append run at REPEATABLE READ its snapshot
  could predate the lock: the position or version it took would then already be stored, and the
  events' unique keys refuse it rather than leave a gap or a reordering.
On PostgreSQL these writes are functions (migrations/versions/0015, 0016), in this same order: an
append of up to SMALL_BATCH events is one statement, timeline_append, in its own transaction; a
larger one is a transaction of timeline_reserve, a COPY of the events and timeline_settle.
Under the lock, the head is read from the events themselves (migrations/versions/0016): the next
position is one past the highest stored, a stream's next version one past its highest, each one
step down an index the events have anyway, and nothing else is rewritten per append (a counter row
and a stream row were two more pages per commit on SQLite). A rolled-back append leaves no row,
so no gap. recorded_at is the later of our clock and the latest one stored, so it never decreases
along the position even if the clock steps back or two servers disagree.
Everything else that needs checking against the stream (expected_version, an idempotency key) is
checked after the lock is taken, so nothing can slip in between the check and the insert.

The log's Merkle tree is not grown here. An append writes its events and nothing of the tree;
the tree integrates what is committed, behind the head (app.store.tree.LogTree.catch_up: the
checkpoint loop, and any proof or tree head asked of events it does not hold yet), as a
transparency log's sequencer and integrator are apart (Trillian, Certificate Transparency). Hashing
an event's leaf and the subtrees it completes took a third of a bulk append's time on both backends
when it was done here, under the lock (benchmarks/README.md, append).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from app.store.listener import APPENDED_CHANNEL

# The statements of a SQLite append (also run as they are by the append benchmark's "raw driver,
# the store's writes", so that row measures exactly these writes). PostgreSQL's are the functions
# of migrations/versions/0015 and 0016, below.
SQLITE_HEAD = (
    "SELECT (SELECT max(position) FROM events), (SELECT max(recorded_at) FROM events), "
    "(SELECT max(version) FROM events WHERE incident_id = ?)"
)
SQLITE_EARLIER_RESULT = "SELECT request_hash, result FROM idempotency_keys WHERE scope = ? AND key = ?"
SQLITE_OPEN_STREAM = "INSERT INTO streams (incident_id, opened_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
SQLITE_REMEMBER_RESULT = (
    "INSERT INTO idempotency_keys (scope, key, request_hash, incident_id, result, created_at) VALUES (?, ?, ?, ?, ?, ?)"
)

# On PostgreSQL, up to this many events go in with the one statement, more with COPY. Measured
# (python -m benchmarks append, 2026-12-03): 100 events 0.92x of the floor in the statement, 0.80x
# with COPY; 1,000 events 0.77x in the statement, 0.89x with COPY.
SMALL_BATCH = 200
# The transaction advisory lock appends take on PostgreSQL (migrations/versions/0016 writes it out).
APPEND_LOCK = 0x746C_6170_7065_6E64  # "tlappend" in ASCII, apart from app.leadership's keys
COLUMNS = (
    "position, incident_id, version, event_id, type, schema_version, data, metadata, reported_at, recorded_at, "
    "reported_day"
)
SQLITE_INSERT_EVENTS = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join(['?'] * 11)})"


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    event_id: str
    type: str
    schema_version: int
    data: str
    metadata: str
    reported_at: datetime | None
    reported_day: date | None = None


@dataclass(frozen=True, slots=True)
class Idempotency:
    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class Appended:
    """What an append did: a fresh write, or the stored result of an earlier one under the same key."""

    version: int
    first_position: int
    recorded_at: datetime
    earlier: dict[str, Any] | None = None


class IdempotencyMismatch(Exception):
    pass


class StaleVersion(Exception):
    def __init__(self, actual: int):
        self.actual = actual


class DuplicateEvent(Exception):
    pass


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")) if value else "{}"


def event_rows(
    incident_id: str,
    events: Sequence[PreparedEvent],
    first_position: int,
    first_version: int,
    recorded: Any,
    reported: Callable[[PreparedEvent], Any],
    day: Callable[[date | None], Any],
) -> list[tuple]:
    """The events table's rows of an append (COLUMNS), times and days as the backend's driver takes them."""
    return [
        (
            first_position + offset,
            incident_id,
            first_version + offset,
            e.event_id,
            e.type,
            e.schema_version,
            e.data,
            e.metadata,
            reported(e),
            recorded,
            day(e.reported_day),
        )
        for offset, e in enumerate(events)
    ]


def sqlite_time(moment: datetime) -> str:
    """The text SQLAlchemy keeps on SQLite for a UTCDateTime (naive UTC, microseconds)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def append_sqlite(
    connection,
    incident_id: str,
    events: Sequence[PreparedEvent],
    now: datetime,
    expected_version: int | None,
    idempotency: Idempotency | None,
    result_json,
) -> Appended:
    import sqlite3

    count = len(events)
    cursor = connection.cursor()
    cursor.execute("BEGIN IMMEDIATE")  # the write lock, held to COMMIT: see the module docstring
    try:
        now_text = sqlite_time(now)
        head, last_recorded, version = cursor.execute(SQLITE_HEAD, (incident_id,)).fetchone()
        # Text of one fixed form (sqlite_time), so the later time is the greater string.
        recorded_text = now_text if last_recorded is None or now_text > last_recorded else last_recorded
        if idempotency is not None:
            row = cursor.execute(SQLITE_EARLIER_RESULT, (idempotency.scope, idempotency.key)).fetchone()
            earlier = _matching(row, idempotency)
            if earlier is not None:
                cursor.execute("ROLLBACK")
                return Appended(0, 0, now, earlier=earlier)
        version = version or 0
        if expected_version is not None and version != expected_version:
            raise StaleVersion(version)
        if version == 0:
            cursor.execute(SQLITE_OPEN_STREAM, (incident_id, recorded_text))
        first_position, first_version = (head or 0) + 1, version + 1
        new_version = version + count
        cursor.executemany(
            SQLITE_INSERT_EVENTS,
            event_rows(
                incident_id,
                events,
                first_position,
                first_version,
                recorded_text,
                lambda e: recorded_text if e.reported_at is None else sqlite_time(e.reported_at),
                lambda day: day and day.isoformat(),
            ),
        )
        if recorded_text is now_text and now.tzinfo is UTC:
            recorded_at = now
        else:
            recorded_at = datetime.fromisoformat(recorded_text).replace(tzinfo=UTC)
        appended = Appended(new_version, first_position, recorded_at)
        if idempotency is not None:
            cursor.execute(
                SQLITE_REMEMBER_RESULT,
                (
                    idempotency.scope,
                    idempotency.key,
                    idempotency.request_hash,
                    incident_id,
                    json.dumps(result_json(appended)),
                    recorded_text,
                ),
            )
        cursor.execute("COMMIT")
        return appended
    except sqlite3.IntegrityError as error:
        cursor.execute("ROLLBACK")
        if "event_id" in str(error):
            raise DuplicateEvent() from None
        raise
    except BaseException:
        if connection.in_transaction:
            cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()


def append_postgres(
    connection,
    incident_id: str,
    events: Sequence[PreparedEvent],
    now: datetime,
    expected_version: int | None,
    idempotency: Idempotency | None,
    origin: str = "",
) -> Appended:
    """An append on PostgreSQL, by the functions of migrations/versions/0015 and 0016, which write
    the key's result and the notification themselves."""
    import psycopg

    count = len(events)
    key = (idempotency.scope, idempotency.key, idempotency.request_hash) if idempotency else (None, None, None)
    if count <= SMALL_BATCH:
        statement, arguments = postgres_append_statement(incident_id, events, now, expected_version, key, origin)
        connection.autocommit = True  # the statement is its own transaction: see POSTGRES_APPEND
        try:
            version, last_position, recorded_at = connection.execute(statement, arguments).fetchone()
        except psycopg.Error as error:
            return _refused(error, now)
        finally:
            if not connection.broken:  # a lost connection is the pool's to replace, as it is
                connection.autocommit = False
        return Appended(version, last_position - count + 1, recorded_at.astimezone(UTC))
    cursor = connection.cursor()
    try:
        # BEGIN and the reservation (the appends' lock first, the key, the stream's version) in one
        # round trip; then the events by COPY, the key's result and the notification, and COMMIT.
        with connection.pipeline():
            cursor.execute(POSTGRES_RESERVE, (incident_id, now, count, expected_version, *key))
        version, last_position, recorded_at = cursor.fetchone()
        first_position, first_version = last_position - count + 1, version - count + 1
        rows = event_rows(
            incident_id,
            events,
            first_position,
            first_version,
            recorded_at,
            lambda e: e.reported_at or recorded_at,
            lambda day: day,
        )
        with cursor.copy(f"COPY events ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            POSTGRES_SETTLE,
            (incident_id, count, version, last_position, recorded_at, *key, APPENDED_CHANNEL, origin),
        )
        connection.commit()
        return Appended(version, first_position, recorded_at.astimezone(UTC))
    except psycopg.Error as error:
        connection.rollback()
        return _refused(error, now)
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()


# The whole of a small append in one statement, one round trip (migrations/versions/0015): sent in
# autocommit, so the statement is its own transaction. A pooled connection's BEGIN and COMMIT would
# be two more round trips; even pipelined with them the same function took a third longer (a
# scratch timing, benchmarks/README.md, append, 2026-12-03 14:45).
POSTGRES_APPEND = "SELECT version, last_position, recorded_at FROM timeline_append(%s, %s, %s, %s, %s, %s, %s, %s, %s)"
# The same for one event, its fields as arguments (migrations/versions/0016).
POSTGRES_APPEND_ONE = (
    "SELECT version, last_position, recorded_at FROM timeline_append_one("
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
POSTGRES_RESERVE = "SELECT version, last_position, recorded_at FROM timeline_reserve(%s, %s, %s, %s, %s, %s, %s)"
POSTGRES_SETTLE = "SELECT timeline_settle(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
# The functions' refusals, each rolling the transaction back (migrations/versions/0015).
EARLIER_HELD, KEY_REUSED, VERSION_MOVED = "TL001", "TL002", "TL003"


def postgres_append_statement(
    incident_id: str,
    events: Sequence[PreparedEvent],
    now: datetime,
    expected_version: int | None,
    key: tuple[str | None, str | None, str | None],
    origin: str,
) -> tuple[str, tuple]:
    """The one statement of an append of up to SMALL_BATCH events, and its arguments: one event's
    fields as arguments of timeline_append_one, more as timeline_append's JSON array."""
    if len(events) == 1:
        (e,) = events
        statement = POSTGRES_APPEND_ONE
        given: tuple = (e.event_id, e.type, e.schema_version, e.data, e.metadata, e.reported_at, e.reported_day)
    else:
        statement, given = POSTGRES_APPEND, (events_document(events),)
    return statement, (incident_id, now, expected_version, *key, *given, APPENDED_CHANNEL, origin)


def events_document(events: Sequence[PreparedEvent]) -> str:
    """timeline_append's p_events: the events as one JSON array (migrations/versions/0015)."""
    return orjson.dumps(
        [
            {
                "event_id": e.event_id,
                "type": e.type,
                "schema_version": e.schema_version,
                "data": e.data,
                "metadata": e.metadata,
                "reported_at": e.reported_at,
                "reported_day": e.reported_day,
            }
            for e in events
        ]
    ).decode()


def _refused(error, now: datetime) -> Appended:
    """What a refusal of the functions (or a duplicate event id) means to the store; anything else
    is raised as it is."""
    import psycopg

    if isinstance(error, psycopg.errors.UniqueViolation) and "event_id" in str(error):
        raise DuplicateEvent() from None
    if error.sqlstate == EARLIER_HELD:
        return Appended(0, 0, now, earlier=json.loads(error.diag.message_detail or "null"))
    if error.sqlstate == KEY_REUSED:
        raise IdempotencyMismatch() from None
    if error.sqlstate == VERSION_MOVED:
        raise StaleVersion(int(error.diag.message_detail or 0)) from None
    raise error


def _matching(row, idempotency: Idempotency) -> dict[str, Any] | None:
    if row is None:
        return None
    request_hash, result = row
    if request_hash != idempotency.request_hash:
        raise IdempotencyMismatch()
    return json.loads(result) if isinstance(result, str) else result
