"""The store's one seam between SQLite and PostgreSQL, chosen once per engine.

Five things differ: the append path (each backend's driver, lock and bulk insert:
app.store.appenders), looking up many event ids at once, writing the log tree's nodes in bulk,
whether other processes hear of an append at once (PostgreSQL's NOTIFY: app.store.listener)
or find it by polling (SQLite), and how a process can tell, for nothing, that the log has not
changed (LogWatch). Everything else in the store is the same SQLAlchemy Core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from app.store.appenders import Appended, Idempotency, PreparedEvent, append_postgres, append_sqlite
from app.store.listener import AppendListener
from app.store.tables import events, merkle_nodes

ResultJson = Callable[[Appended], dict[str, Any]]
OnAppend = Callable[[str | None, int | None], None]


class StoreBackend(Protocol):
    origin: str  # names this store in what it tells other processes

    def append(
        self,
        driver_connection: Any,
        incident_id: str,
        prepared: Sequence[PreparedEvent],
        now: datetime,
        expected_version: int | None,
        idempotency: Idempotency | None,
        result_json: ResultJson,
    ) -> Appended: ...

    def existing_event_ids(self, conn: Connection, event_ids: Sequence[str]) -> set[str]: ...

    def write_nodes(self, conn: Connection, nodes: Sequence[tuple[int, bytes]]) -> None:
        """Insert the log tree's new nodes, (key, hash), as it integrates a page of events."""
        ...

    def listener(self, engine: Engine, on_append: OnAppend) -> AppendListener | None:
        """What hears other processes' appends at once, where the database can tell (else None: poll)."""
        ...

    def log_watch(
        self, engine: Engine, listener: AppendListener | None, appends_made: Callable[[], int]
    ) -> LogWatch | None:
        """What tells, without a read, that nothing was committed since it last said so (else None)."""
        ...

    def scrub(self, engine: Engine, tables: Sequence[str]) -> None:
        """Leave no deleted row's bytes in the database's pages (an erasure): free pages, the
        write-ahead log, dead tuples."""
        ...


class LogWatch(Protocol):
    every_commit: bool  # whether the token moves with every commit (else: with every append)

    def token(self) -> Any:
        """The same while nothing has been committed to the log (app.projections.heads)."""
        ...

    def close(self) -> None: ...


class DataVersionWatch:
    """SQLite's data_version on a connection of its own, which never writes: it changes with every
    commit any other connection makes, in this process or another. A pragma answered from the open
    connection's state (no page of a table is read), a few microseconds."""

    every_commit = True

    def __init__(self, engine: Engine):
        pooled = engine.raw_connection()
        self._connection: Any = pooled.driver_connection
        pooled.detach()  # ours alone: its data_version counts the commits of every other connection
        self._lock = threading.Lock()

    def token(self) -> object:
        with self._lock:
            if self._connection is None:
                return object()  # closed (the server stopping): it vouches for nothing
            return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


class HearingWatch:
    """On PostgreSQL: the listener hearing every other process's append (whose notifications move
    the head versions themselves), and this store's own count of appends. Other commits (a
    subscription made through another process) do not move it."""

    every_commit = False

    def __init__(self, listener: AppendListener, appends_made: Callable[[], int]):
        self._listener, self._appends_made = listener, appends_made

    def token(self) -> tuple[object, int]:
        return self._listener.hearing(), self._appends_made()

    def close(self) -> None:
        pass


class SqliteBackend:
    append = staticmethod(append_sqlite)

    def __init__(self, origin: str):
        self.origin = origin

    def listener(self, engine: Engine, on_append: OnAppend) -> None:
        return None  # SQLite tells nobody of a commit: other processes find appends by polling

    def log_watch(
        self, engine: Engine, listener: AppendListener | None, appends_made: Callable[[], int]
    ) -> LogWatch | None:
        if engine.url.database in (None, "", ":memory:"):
            return None  # one connection per thread, each its own database: nothing to watch beside it
        return DataVersionWatch(engine)

    def scrub(self, engine: Engine, tables: Sequence[str]) -> None:
        # VACUUM writes the whole database afresh (no free page keeps old bytes); in WAL mode it
        # goes through the log, which the checkpoint then copies back and truncates to nothing.
        pooled = engine.raw_connection()
        try:
            raw = pooled.driver_connection
            assert raw is not None
            for statement in ("PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"):
                raw.execute(statement)
        finally:
            pooled.close()

    # SQLite allows a limited number of bound parameters in one statement.
    CHUNK = 500

    def existing_event_ids(self, conn: Connection, event_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(event_ids), self.CHUNK):
            chunk = list(event_ids[start : start + self.CHUNK])
            found.update(conn.execute(sa.select(events.c.event_id).where(events.c.event_id.in_(chunk))).scalars())
        return found

    def write_nodes(self, conn: Connection, nodes: Sequence[tuple[int, bytes]]) -> None:
        conn.execute(merkle_nodes.insert(), [{"node": node, "hash": hashed} for node, hashed in nodes])


class PostgresBackend:
    def __init__(self, origin: str):
        self.origin = origin

    def append(
        self,
        driver_connection: Any,
        incident_id: str,
        prepared: Sequence[PreparedEvent],
        now: datetime,
        expected_version: int | None,
        idempotency: Idempotency | None,
        result_json: ResultJson,
    ) -> Appended:
        # The functions write the key's result themselves (migrations/versions/0015): no result_json.
        return append_postgres(
            driver_connection, incident_id, prepared, now, expected_version, idempotency, self.origin
        )

    def listener(self, engine: Engine, on_append: OnAppend) -> AppendListener:
        return AppendListener(engine, self.origin, on_append)

    def log_watch(
        self, engine: Engine, listener: AppendListener | None, appends_made: Callable[[], int]
    ) -> LogWatch | None:
        return None if listener is None else HearingWatch(listener, appends_made)

    def scrub(self, engine: Engine, tables: Sequence[str]) -> None:
        # VACUUM FULL writes each table (and its indexes) into new files and deletes the old ones,
        # dead tuples and all; the CHECKPOINT then flushes the new pages.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f'VACUUM FULL "{table}"')
            try:
                conn.exec_driver_sql("CHECKPOINT")
            except sa.exc.DBAPIError:
                pass  # a role without pg_checkpoint: the server's own next checkpoint flushes them

    def existing_event_ids(self, conn: Connection, event_ids: Sequence[str]) -> set[str]:
        # One round trip with an array, however many ids.
        wanted = sa.bindparam("ids", type_=postgresql.ARRAY(sa.String))
        query = sa.select(events.c.event_id).where(events.c.event_id == sa.any_(wanted))
        return set(conn.execute(query, {"ids": list(event_ids)}).scalars())

    def write_nodes(self, conn: Connection, nodes: Sequence[tuple[int, bytes]]) -> None:
        # COPY, in the transaction of `conn`: psycopg's executemany sends a statement per row, which
        # made the nodes (two rows an event) most of the tree's integration time.
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy("COPY merkle_nodes (node, hash) FROM STDIN") as copy:
            for row in nodes:
                copy.write_row(row)


def store_backend(engine: Engine, origin: str) -> StoreBackend:
    return PostgresBackend(origin) if engine.dialect.name == "postgresql" else SqliteBackend(origin)
