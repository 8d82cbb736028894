"""Engines for the embedded SQLite default and PostgreSQL, with their durability settings."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from psycopg.pq import Format
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from events.admissible import EARLIEST_TIME, LATEST_TIME, ClampedTime, clamped_from_text, clamped_time

REPO_ROOT = Path(__file__).resolve().parent.parent


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on both backends (SQLite keeps naive UTC text, PostgreSQL timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return clamped_time(value)

    def result_processor(self, dialect, coltype):
        process = super().result_processor(dialect, coltype)
        if process is None:
            return None

        def read_as_stored(value):
            # A time an older version stored past the ends of what Python can hold (see
            # events.admissible) is read at the nearest end instead of failing the whole read.
            try:
                return process(value)
            except (ValueError, OverflowError):
                return clamped_from_text(str(value))

        return read_as_stored


def is_sqlite(url: str | sa.URL) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


class ClosingQueuePool(QueuePool):
    """SQLAlchemy's QueuePool, except that a connection checked in after the pool was disposed is
    closed at once. A thread that outlives a shutdown (a read finishing after the server stopped)
    returns its connection to the disposed pool, which would otherwise keep it open until the
    garbage collector finds it (and the driver warns that it was never closed).

    It also keeps a few connections aside for the append path (`held_connection`): checking a
    connection out of the pool and back in cost a single append about 30 µs (10 out, 20 in,
    timed around EventStore.append's driver call), a tenth of a durable append on SQLite."""

    _disposed = False
    HELD = 2  # kept between appends; more appending at once take the pool's, as before

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held: list[tuple[Any, float]] = []
        self._held_lock = threading.Lock()

    def take_held(self) -> tuple[Any, float]:
        """A held connection and when it was first checked out, else one from the pool (now)."""
        with self._held_lock:
            if self._held:
                pooled, since = self._held.pop()
                if self._recycle < 0 or time.monotonic() - since < self._recycle:
                    return pooled, since
            else:
                pooled = None
        if pooled is not None:
            pooled.close()  # held past the pool's recycle time: the pool recycles it
        return self.connect(), time.monotonic()

    def hold(self, pooled: Any, since: float) -> None:
        with self._held_lock:
            if not self._disposed and len(self._held) < self.HELD:
                self._held.append((pooled, since))
                return
        pooled.close()

    def held_connections(self) -> list[Any]:
        """The driver connections held for appends now."""
        with self._held_lock:
            return [pooled.driver_connection for pooled, _ in self._held]

    def dispose(self) -> None:
        self._disposed = True
        with self._held_lock:
            held, self._held = self._held, []
        for pooled, _ in held:
            pooled.close()
        super().dispose()

    def _do_return_conn(self, record) -> None:
        if self._disposed:
            record.close()
            return
        super()._do_return_conn(record)


@contextmanager
def held_connection(engine: Engine) -> Iterator[Any]:
    """A pooled connection for one append, kept aside afterwards for the next (ClosingQueuePool).
    Each append still has a connection of its own, so appends from several threads wait on the
    database's lock with their statements sent (app.store.appenders), as with the pool's. After
    an error the connection goes back to the pool, which resets or replaces it."""
    pool = engine.pool
    if not isinstance(pool, ClosingQueuePool):
        pooled = engine.raw_connection()
        try:
            yield pooled
        finally:
            pooled.close()
        return
    pooled, since = pool.take_held()
    try:
        yield pooled
    except BaseException:
        pooled.close()
        raise
    pool.hold(pooled, since)


def json_loads(text: str | bytes) -> Any:
    """A stored JSON document (event data, index entries) decoded with orjson, several times faster
    than the standard library on the reads that decode in volume; a document orjson refuses (a lone
    surrogate's escape, written by an older version) is decoded as the standard library does."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def json_dumps(value: Any) -> str:
    """A document encoded with orjson (compact, UTF-8), several times faster than the standard
    library on the writes that encode in volume (the index's entries); what orjson refuses (a lone
    surrogate, an integer past 64 bits) is encoded as the standard library does. Non-finite floats,
    which orjson would write as null, never reach it: events holding them are not admitted."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)


class Document(sa.types.TypeDecorator):
    """A JSON column written with json_dumps (and read, like every JSON column, with json_loads)."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect):
        if dialect.name == "postgresql":
            # psycopg sends a json parameter as its Json wrapper; its dumps is ours.
            from psycopg.types.json import Json

            return lambda value: None if value is None else Json(value, dumps=json_dumps)
        return lambda value: None if value is None else json_dumps(value)


def create_engine(url: str, *, durability: str = "full", **kwargs) -> Engine:
    """Create an engine whose commits are durable unless durability='fast' is asked for by name."""
    kwargs.setdefault("json_deserializer", json_loads)
    if is_sqlite(url):
        return _sqlite_engine(url, durability, **kwargs)
    synchronous_commit = "on" if durability == "full" else "off"
    connect_args = {"options": f"-c synchronous_commit={synchronous_commit} -c timezone=UTC"}
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it is a round trip before every append (about a quarter of a durable single
    # append's time here). A connection broken by a server restart fails one request and is
    # then replaced by the pool; connections are recycled hourly anyway.
    kwargs.setdefault("pool_recycle", 3600)
    kwargs.setdefault("poolclass", ClosingQueuePool)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        for format in (Format.TEXT, Format.BINARY):
            dbapi_connection.adapters.register_loader("timestamptz", _lenient_timestamptz(format))

    return engine


def _lenient_timestamptz(format):
    """psycopg's own timestamptz loader, except that a time before year 1 or after 9999 (which
    PostgreSQL can hold and Python cannot) is read at the nearest end, flagged, instead of raising
    for the whole page it is on. psycopg's C loaders cannot be subclassed, so this wraps one."""
    from psycopg import DataError, postgres
    from psycopg.adapt import Loader

    inner_class = postgres.adapters.get_loader(postgres.types["timestamptz"].oid, format)

    class LenientTimestamptz(Loader):
        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._inner = inner_class(oid, context)

        def load(self, data):
            try:
                return self._inner.load(data)
            except DataError:
                raw = bytes(data)
                if format == Format.BINARY:
                    early = int.from_bytes(raw, "big", signed=True) < 0
                    return ClampedTime(EARLIEST_TIME if early else LATEST_TIME, "out of range")
                return clamped_from_text(raw.decode())

    LenientTimestamptz.format = format
    return LenientTimestamptz


def _sqlite_engine(url: str, durability: str, **kwargs) -> Engine:
    synchronous = "FULL" if durability == "full" else "NORMAL"
    if sa.make_url(url).database not in (None, "", ":memory:"):
        kwargs.setdefault("poolclass", ClosingQueuePool)  # a file: pooled, as SQLAlchemy would
    engine = sa.create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself, so writers can ask for
        # BEGIN IMMEDIATE (see EventStore.append) while readers keep deferred snapshots.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL syncs the WAL on every commit: an acknowledged append survives a power cut.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer(connection: sa.Connection) -> sa.Connection:
    """Mark a connection as a writer: on SQLite its transactions take the write lock at BEGIN."""
    return connection.execution_options(sqlite_begin="IMMEDIATE")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def schema_problem(url: str) -> str | None:
    """Why this version cannot run on the database at `url` (no schema yet, or an older or newer one
    than its newest migration), or None when the schema is current."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(url))
    needed = scripts.get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current == needed:
        return None
    if current is None:
        return "the database has no schema yet: run `timeline migrate` first"
    if current not in {script.revision for script in scripts.walk_revisions()}:
        return (
            f"the database's schema is at revision {current}, newer than this version knows (it needs "
            f"{needed}): run the version that migrated it"
        )
    return (
        f"the database's schema is at revision {current} and this version needs {needed}: run `timeline migrate` first"
    )


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (alembic upgrade head), and the log's
    Merkle tree up to the events stored before it was kept (app.store.tree)."""
    from alembic import command

    from app.store.tree import LogTree

    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    try:
        LogTree(engine).catch_up()
    finally:
        engine.dispose()
