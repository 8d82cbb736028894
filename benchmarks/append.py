"""Append throughput (events/s): this store vs the `eventsourcing` recorders vs the raw-driver floor.

Every implementation writes the same events (an `AssertionRecorded` of ~430 bytes of JSON) at the
same durability (SQLite WAL + synchronous=FULL; PostgreSQL synchronous_commit=on, fsync=on), into
a fresh database per implementation, workload and round, in the same number of transactions; in
a round the implementations take turns a slice of the workload at a time (see
benchmarks.harness.interleaved), and the ratios are taken within each round. The workloads:

- single:   one event per append (one transaction, one commit each);
- batch100: 100 events per append;
- bulk1000: 1000 events per append (the bulk import path).

The rows:

- ours: `EventStore.append(incident_id, [NewEvent(...)])`, the product code path; for bulk1000
  also `app.importing.import_batches` (the import command's path: duplicate check, then appends);
- ours: the tree integrating: `LogTree.catch_up()` over the events `ours` appended in the round,
  timed after the turns: the log's Merkle tree, which appends no longer grow, integrating them
  behind the head (app.store.tree) as the checkpoint loop does;
- eventsourcing: `SQLiteApplicationRecorder` / `PostgresApplicationRecorder.insert_events`
  (the recorders keep a global notification order, as we do), the event envelope serialized
  into the recorder's `state`;
- floor: the raw driver inserting the same rows into the same `events` table (made by
  `app.db.migrate`, so with the same indexes): sqlite3 `executemany` in one transaction per
  append, psycopg `COPY events (...) FROM STDIN` in one transaction per append; positions and
  versions come from Python, no counter rows, no lock;
- raw driver, the store's writes (single only): the raw driver making every write an append of
  ours makes, in the same statements and round trips, with none of the store's Python: the floor
  against it is what those writes cost, it against `ours` what our Python costs;

`python -m benchmarks append [--quick] [--rounds N] [--backends sqlite,postgres]`
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks.harness import (
    format_table,
    interleaved,
    rate,
    ratio,
    ratio_range,
    ratios_by_round,
    rounds,
    say,
    temporary_postgres,
    timed,
)

# -- workloads --------------------------------------------------------------------------------

INCIDENTS = 20  # appends go round-robin over this many incidents
EVENT_TYPE = "AssertionRecorded"
TOPIC = "events.catalog:AssertionRecorded"  # what an eventsourcing application would record


@dataclass(frozen=True)
class Workload:
    name: str
    per_append: int
    events: dict[str, int]  # backend -> events in a full run
    quick_events: int
    appends_per_step: int  # implementations take turns doing this many appends (a few tens of ms)

    def total(self, backend: str, quick: bool) -> int:
        return self.quick_events if quick else self.events[backend]


WORKLOADS = (
    Workload("single", 1, {"sqlite": 2_000, "postgres": 1_000}, 20, appends_per_step=10),
    Workload("batch100", 100, {"sqlite": 20_000, "postgres": 20_000}, 200, appends_per_step=4),
    Workload("bulk1000", 1000, {"sqlite": 40_000, "postgres": 40_000}, 2_000, appends_per_step=1),
)

Append = tuple[str, list[tuple[dict[str, Any], datetime]]]  # incident_id, [(data, reported_at)]


def make_appends(total: int, per_append: int) -> list[Append]:
    """The workload's input: realistic assertion payloads, grouped into appends, made before timing."""
    published = datetime(2026, 1, 25, 14, 30, tzinfo=timezone.utc)
    appends: list[Append] = []
    for number in range(0, total, per_append):
        incident = f"incident-{(number // per_append) % INCIDENTS:03d}"
        batch = []
        for index in range(number, min(number + per_append, total)):
            reported_at = published + timedelta(minutes=index)
            batch.append((assertion_data(index, reported_at), reported_at))
        appends.append((incident, batch))
    return appends


def assertion_data(index: int, reported_at: datetime) -> dict[str, Any]:
    """An AssertionRecorded payload of about 400 bytes of JSON, as a news import produces them."""
    return {
        "assertion_id": f"a-{index:07d}",
        "kind": "official_statement",
        "occurred": "2026-01-24",
        "headline": f"County attorney says investigators will review all body-camera footage ({index})",
        "sources": [
            {
                "outlet": "Minnesota Star Tribune",
                "url": f"https://www.startribune.com/minneapolis-shooting-investigation/{601000000 + index}",
                "published_at": reported_at.isoformat().replace("+00:00", "Z"),
                "quote": "We will review every second of footage before any decision is made.",
            }
        ],
    }


# -- backends ---------------------------------------------------------------------------------


class SQLiteBackend:
    name = "sqlite"

    def __enter__(self):
        from app.db import migrate

        self.directory = Path(tempfile.mkdtemp(prefix="bench-append-"))
        self.template = self.directory / "template.db"
        migrate(f"sqlite:///{self.template}")
        connection = sqlite3.connect(self.template)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a plain copy is then a whole database
        connection.close()
        self.counter = 0
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.directory, ignore_errors=True)

    @contextmanager
    def database(self, migrated: bool) -> Iterator[dict[str, Any]]:
        """A fresh database file: a copy of the migrated template, or an empty file."""
        self.counter += 1
        path = self.directory / f"db{self.counter}.db"
        if migrated:
            shutil.copyfile(self.template, path)
        try:
            yield {"path": str(path), "url": f"sqlite:///{path}"}
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def settle(self) -> None:
        pass

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}, temp files under {self.directory}"


class PostgresBackend:
    name = "postgres"

    def __enter__(self):
        import psycopg

        from app.db import migrate

        self.server = temporary_postgres()
        try:
            self.server.create_database("bench_template")
            migrate(self.server.url("bench_template"))
            self.admin = psycopg.connect(self.server.dsn("postgres"), autocommit=True)
            self.settings = {
                name: self.admin.execute(f"SHOW {name}").fetchone()[0]
                for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")
            }
            self.can_checkpoint = True
        except BaseException:
            self.server.stop()
            raise
        self.counter = 0
        return self

    def __exit__(self, *exc):
        try:
            self.admin.close()
            self.server.drop_database("bench_template")
        finally:
            self.server.stop()

    @contextmanager
    def database(self, migrated: bool) -> Iterator[dict[str, Any]]:
        from sqlalchemy import make_url

        self.counter += 1
        name = f"bench{self.counter}"
        self.server.create_database(name, template="bench_template" if migrated else None)
        # Every connection to it commits durably, whatever the server's configuration says.
        self.admin.execute(f"ALTER DATABASE {name} SET synchronous_commit = on")
        url = make_url(self.server.url(name))
        try:
            yield {
                "url": url.render_as_string(hide_password=False),
                "dsn": self.server.dsn(name),
                "dbname": name,
                "host": url.host,
                "port": url.port,
                "user": url.username,
                "password": url.password or "",
            }
        finally:
            self.server.drop_database(name)

    def settle(self) -> None:
        """Start each timed run from a fresh checkpoint, so no run pays for its predecessor's writes."""
        import psycopg

        if self.can_checkpoint:
            try:
                self.admin.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:  # an external server, say
                self.can_checkpoint = False

    def describe(self) -> str:
        return "PostgreSQL " + ", ".join(f"{key}={value}" for key, value in self.settings.items())


BACKENDS = {"sqlite": SQLiteBackend, "postgres": PostgresBackend}


# -- implementations --------------------------------------------------------------------------
#
# Each one is a context manager taking (backend, db, incidents): its set-up (connections, tables,
# a warm pool) happens before anything is timed, and it yields (run, count): run(appends) does a
# slice of the workload's appends, in order; count() reads back how many events landed (checked
# after timing, so a broken implementation cannot look fast).


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def ours(backend, db, incidents: list[str]):
    from app.db import create_engine
    from app.store import EventStore, NewEvent

    engine = create_engine(db["url"])
    store = EventStore(engine)
    store.head_position()  # open the pooled connection before timing

    def run(appends: list[Append]) -> None:
        for incident_id, batch in appends:
            store.append(
                incident_id,
                [NewEvent(EVENT_TYPE, data, schema_version=2, reported_at=reported_at) for data, reported_at in batch],
            )

    try:
        yield run, store.head_position
    finally:
        engine.dispose()


@contextmanager
def ours_import(backend, db, incidents: list[str]):
    """The bulk import path: app.importing.import_batches over already-parsed lines, a file per step."""
    from app.db import create_engine
    from app.importing import ImportLine, import_batches
    from app.store import EventStore, NewEvent

    engine = create_engine(db["url"])
    store = EventStore(engine)
    # import_batches wants every new incident to start with IncidentOpened; open them untimed.
    for incident_id in incidents:
        store.append(incident_id, [NewEvent("IncidentOpened", {"title": incident_id})])
    opened = store.head_position()

    def run(appends: list[Append]) -> None:
        lines = [
            ImportLine(
                number, incident_id, NewEvent(EVENT_TYPE, data, 2, reported_at, {"actor": "import"}, str(uuid.uuid4()))
            )
            for number, (incident_id, data, reported_at) in enumerate(
                ((incident_id, data, reported_at) for incident_id, batch in appends for data, reported_at in batch),
                start=1,
            )
        ]
        import_batches(engine, lines, batch_size=len(appends[0][1]))

    try:
        yield run, lambda: store.head_position() - opened
    finally:
        engine.dispose()


def _envelope_state(data: dict, reported_at: datetime, recorded_at: datetime) -> bytes:
    """The same information our row holds, as the bytes an eventsourcing StoredEvent carries."""
    return json.dumps(
        {"data": data, "metadata": {}, "reported_at": reported_at.isoformat(), "recorded_at": recorded_at.isoformat()},
        separators=(",", ":"),
    ).encode()


@contextmanager
def eventsourcing(backend, db, incidents: list[str]):
    from eventsourcing.persistence import StoredEvent

    if backend.name == "sqlite":
        from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

        datastore = SQLiteDatastore(db["path"], originator_id_type="text")
        _sqlite_synchronous_full(datastore)
        recorder = SQLiteApplicationRecorder(datastore)
    else:
        from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

        datastore = PostgresDatastore(
            db["dbname"], db["host"], db["port"], db["user"], db["password"], originator_id_type="text"
        )
        recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    recorder.max_notification_id()  # open the pooled connection before timing
    versions: dict[str, int] = {}

    def run(appends: list[Append]) -> None:
        for incident_id, batch in appends:
            version = versions.get(incident_id, 0)
            recorded_at = utcnow()
            stored = []
            for data, reported_at in batch:
                version += 1
                stored.append(StoredEvent(incident_id, version, TOPIC, _envelope_state(data, reported_at, recorded_at)))
            versions[incident_id] = version
            recorder.insert_events(stored)

    try:
        yield run, lambda: recorder.max_notification_id() or 0
    finally:
        datastore.close()


def _sqlite_synchronous_full(datastore) -> None:
    """Make eventsourcing's SQLite connections match ours: WAL (it sets that) and synchronous=FULL.

    The library switches the file to journal_mode=WAL on its first connection but never sets
    `synchronous`, which then is the build's default (FULL for the usual builds, including the
    one here, but NORMAL in some); setting FULL on each connection it opens keeps the comparison
    independent of how SQLite was compiled.
    """
    pool = datastore.pool
    create = pool._create_connection

    def create_with_full_sync():
        connection = create()
        connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
        return connection

    pool._create_connection = create_with_full_sync


EVENT_COLUMNS = (
    "position",
    "incident_id",
    "version",
    "event_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "reported_at",
    "recorded_at",
)


def raw_connection(backend, db) -> Any:
    """The raw driver's connection at the store's durability: sqlite3 (autocommit, WAL, synchronous
    FULL) or psycopg (synchronous_commit on, UTC)."""
    if backend.name == "sqlite":
        connection = sqlite3.connect(db["path"], isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return connection
    import psycopg

    return psycopg.connect(db["dsn"], options="-c synchronous_commit=on -c timezone=UTC")


def counted_events(backend, connection) -> int:
    if backend.name == "sqlite":
        return connection.execute("SELECT count(*) FROM events").fetchone()[0]
    with connection.transaction():
        return connection.execute("SELECT count(*) FROM events").fetchone()[0]


@contextmanager
def floor(backend, db, incidents: list[str]):
    state: dict[str, Any] = {"position": 0, "versions": {}}

    def next_rows(incident_id, batch, when: Callable[[datetime], Any]):
        """The events rows of one append, numbered in Python (no counter rows, no lock)."""
        recorded_at = when(utcnow())
        version = state["versions"].get(incident_id, 0)
        position = state["position"]
        rows = []
        for data, reported_at in batch:
            position += 1
            version += 1
            rows.append(
                (
                    position,
                    incident_id,
                    version,
                    str(uuid.uuid4()),
                    EVENT_TYPE,
                    2,
                    json.dumps(data),
                    "{}",
                    when(reported_at),
                    recorded_at,
                )
            )
        state["position"], state["versions"][incident_id] = position, version
        return rows

    connection = raw_connection(backend, db)
    if backend.name == "sqlite":
        insert = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"

        def sqlite_time(moment: datetime) -> str:  # how the store keeps times on SQLite: naive UTC text
            return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

        def run(appends: list[Append]) -> None:
            for incident_id, batch in appends:
                rows = next_rows(incident_id, batch, sqlite_time)
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(insert, rows)
                connection.execute("COMMIT")

    else:
        copy_sql = f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"

        def run(appends: list[Append]) -> None:
            for incident_id, batch in appends:
                rows = next_rows(incident_id, batch, lambda moment: moment)
                with connection.transaction(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)

    try:
        yield run, lambda: counted_events(backend, connection)
    finally:
        connection.close()


@contextmanager
def floor_with_the_stores_writes(backend, db, incidents: list[str]):
    """The raw driver making every write an append of ours makes, with the store's own statements
    (app.store.appenders) in its round trips, and none of the store's Python: the head and the
    stream's version read from the events, the stream's row when it is new, the events, and on
    PostgreSQL the lock and the notification, all in the function timeline_append
    (migrations/versions/0015, 0016). `floor` against
    this is what the writes themselves cost; this against `ours`, the Python."""
    from app.store import appenders

    connection = raw_connection(backend, db)

    def rows(incident_id, batch, first: int, first_version: int, recorded: str) -> list[tuple]:
        return [
            (first + o, incident_id, first_version + o, str(uuid.uuid4()), EVENT_TYPE, 2, json.dumps(data), "{}")
            + (appenders.sqlite_time(reported_at), recorded, None)
            for o, (data, reported_at) in enumerate(batch)
        ]

    def run_sqlite(appends: list[Append]) -> None:
        for incident_id, batch in appends:
            now = appenders.sqlite_time(utcnow())
            connection.execute("BEGIN IMMEDIATE")
            head, last_recorded, version = connection.execute(appenders.SQLITE_HEAD, (incident_id,)).fetchone()
            recorded = max(now, last_recorded or now)
            if version is None:
                connection.execute(appenders.SQLITE_OPEN_STREAM, (incident_id, recorded))
            connection.executemany(
                appenders.SQLITE_INSERT_EVENTS, rows(incident_id, batch, (head or 0) + 1, (version or 0) + 1, recorded)
            )
            connection.execute("COMMIT")

    def run_postgres(appends: list[Append]) -> None:
        # An append of a few events is one statement in autocommit, as the store sends it.
        connection.autocommit = True
        for incident_id, batch in appends:
            prepared = [
                appenders.PreparedEvent(str(uuid.uuid4()), EVENT_TYPE, 2, json.dumps(data), "{}", reported_at)
                for data, reported_at in batch
            ]
            no_key = (None, None, None)
            connection.execute(
                *appenders.postgres_append_statement(incident_id, prepared, utcnow(), None, no_key, "")
            ).fetchone()

    try:
        yield (run_sqlite if backend.name == "sqlite" else run_postgres), lambda: counted_events(backend, connection)
    finally:
        connection.close()


OURS, IMPORT, EVENTSOURCING, FLOOR = "ours", "ours: import_batches", "eventsourcing", "floor (raw driver)"
INTEGRATE = "ours: the tree integrating"  # LogTree.catch_up over what `ours` appended, after its turns
WRITES = "raw driver, the store's writes"
IMPLEMENTATIONS: dict[str, Callable] = {
    WRITES: floor_with_the_stores_writes,
    OURS: ours,
    IMPORT: ours_import,
    EVENTSOURCING: eventsourcing,
    FLOOR: floor,
}


def implementations_for(workload: Workload) -> list[str]:
    names = [OURS, EVENTSOURCING, FLOOR]
    if workload.per_append == 1:
        names.insert(3, WRITES)  # where a single append's time goes: the writes, or our Python
    if workload.per_append >= 1000 and import_path_problem() is None:
        names.insert(1, IMPORT)
    return names


def import_path_problem() -> str | None:
    """Why app.importing cannot be measured in this checkout, or None when it can."""
    try:
        import app.importing  # noqa: F401
    except ImportError as error:
        return f"{type(error).__name__}: {error}"
    return None


# -- the section ------------------------------------------------------------------------------


def measure_round(backend, names: list[str], workload: Workload, appends: list[Append]) -> dict[str, float]:
    """One round: a fresh database per implementation, all open at once, the workload done in turns."""
    total = sum(len(batch) for _, batch in appends)
    incidents = sorted({incident_id for incident_id, _ in appends})
    step = workload.appends_per_step
    slices = [appends[start : start + step] for start in range(0, len(appends), step)]
    with ExitStack() as stack:
        runners, databases = {}, {}
        for name in names:
            # eventsourcing creates its own table, in an empty database
            db = stack.enter_context(backend.database(migrated=name != EVENTSOURCING))
            runners[name] = stack.enter_context(IMPLEMENTATIONS[name](backend, db, incidents))
            databases[name] = db
        backend.settle()
        seconds = interleaved(names, len(slices), lambda name, index: runners[name][0](slices[index]))
        for name, (_, count) in runners.items():
            if (landed := count()) != total:
                raise AssertionError(f"{backend.name} {name}: {landed} events stored, expected {total}")
        rates = {name: total / seconds[name] for name in names}
        if OURS in names:
            rates[INTEGRATE] = total / integrating(databases[OURS]["url"], total)
    return rates


def integrating(url: str, total: int) -> float:
    """Seconds the log's tree takes to integrate the `total` events appended (app.store.tree): the
    work an append no longer does, done behind the head by the checkpoint loop or a proof."""
    from app.db import create_engine
    from app.store.tree import LogTree

    engine = create_engine(url)
    try:
        tree = LogTree(engine)
        seconds = timed(lambda: tree.catch_up())
        if (size := tree.size()) != total:
            raise AssertionError(f"the tree integrated {size} events, expected {total}")
        return seconds
    finally:
        engine.dispose()


def run(options: argparse.Namespace) -> None:
    results = []
    for backend_name in options.backends:
        if backend_name not in BACKENDS:
            raise SystemExit(f"unknown backend {backend_name!r}; choose from {', '.join(BACKENDS)}")
        with BACKENDS[backend_name]() as backend:
            say(f"-- {backend.describe()}")
            for workload in WORKLOADS:
                total = workload.total(backend_name, options.quick)
                appends = make_appends(total, workload.per_append)
                names = implementations_for(workload)
                trials = rounds(
                    options.rounds, [*names, INTEGRATE], lambda: measure_round(backend, names, workload, appends)
                )
                say(
                    f"   {workload.name}: {total:,} events in {len(appends):,} appends; events/s per round: "
                    + "; ".join(f"{name} {', '.join(rate(r) for r in trial.rates)}" for name, trial in trials.items())
                )
                results.append((backend_name, workload, total, trials))
    print()
    print(render(results, options.rounds))
    if (problem := import_path_problem()) is not None:
        print(f"(no '{IMPORT}' row: app.importing does not import in this checkout: {problem})")


def render(results, rounds_run: int) -> str:
    headers = (
        "backend",
        "workload",
        "implementation",
        "events/s",
        "vs floor",
        "ours / eventsourcing",
        "the tree integrating / the append",
    )
    rows = []
    for backend_name, workload, total, trials in results:
        for name, trial in trials.items():
            rows.append(
                (
                    backend_name,
                    f"{workload.name} ({total:,} ev)",
                    name,
                    rate(trial.best),
                    ratio_range(ratios_by_round(trial, trials[FLOOR])),
                    ratio(median(ratios_by_round(trial, trials[EVENTSOURCING]))) if name in (OURS, IMPORT) else "",
                    tree_cost(trial, trials[INTEGRATE]) if name == OURS else "",
                )
            )
    note = (
        f"events/s: the best of {rounds_run} round(s); in each round every implementation has a fresh database "
        "and they take turns, a slice of the workload at a time.\nvs floor, ours / eventsourcing: ratios of "
        "events/s within each round (the same slow spells hit both sides), median of the rounds, "
        "(lowest–highest) when there were several."
    )
    note += (
        "\nthe tree integrating / the append: appends write events only, so the tree costs the append path "
        f"nothing (app.store.tree integrates behind the head); '{INTEGRATE}' takes this many times the append's "
        "time for the same events (median of the rounds)."
    )
    return format_table(headers, rows, align="lllrrrr") + "\n" + note


def tree_cost(ours_trial, integrating_trial) -> str:
    return ratio(median(ratios_by_round(ours_trial, integrating_trial)))
