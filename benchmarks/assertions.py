"""The analysts' read model: `GET /v1/assertions` from the assertion index at scale, its rebuild, and read_all.

Three measurements, on SQLite and PostgreSQL (a throwaway cluster, tests/support/postgres.py):

1. queries: two stores made of `incident_history` streams (benchmarks/timeline.py: assertions
   recorded, then corroborated, revised, ranked, disputed, a few retracted), 50 assertions per
   incident in 101 events: a large one of 2,000 incidents (100,000 assertions, 202,000 events) and
   a small one of 20 incidents (1,000 assertions). Each stream is rewritten for the analysts'
   questions: one assertion in 50 is attributed to a recurring speaker (`Kristi Noem`, kept
   through revisions, and registered as the actor `kristi-noem` before the streams), one in 100
   says "body camera" in its text, the headlines come from a pool of a dozen; disputes are the
   history's own (~15% of the follow-ups). Every incident is appended
   in two halves, all first halves before any second half, so the log's middle (the end of the
   first pass, N) holds half of every incident. The index is brought up to the head by a full
   rebuild (measurement 2) before anything is timed.

   Timed, through the real HTTP app (`app.api.main.create_app`, served by uvicorn in a thread on a
   loopback port, tests/support/live.ThreadedServer; an httpx.Client on one keep-alive connection
   in the same process, so the client shares the GIL and its cost is in the figure), both stores'
   servers up at once and the requests taking turns, the order rotating each repetition:
   - `GET /v1/assertions?q=body%20camera` (full text),
   - `GET /v1/assertions?attributed_to=Kristi%20Noem` (who made the claim: part of the name),
   - `GET /v1/assertions?actor=kristi-noem` (the same speaker through the actors registry: every
     name the actor goes by, `Narrowing.speakers` in the fold),
   - `GET /v1/assertions?as_of_position=N&disputed=true`,
   each with the route's default page (limit=100, and the total count). Beside them the same
   answers by folding every incident: `TimelineReads.fold_assertions` (the reference the index is
   held to, and the path `TimelineReads.assertions` takes for an `as_of_version` cut-off), called
   directly in Python on the app's own read service (no HTTP); for N, with `as_of` = the recorded
   time of position N (the end of an append, so the same cut-off).
   The small store's folds take turns with the requests; the large store's, seconds each, run
   apart, a few repetitions. After timing, every answer of the index is checked equal to the fold's.

2. rebuild: a full projection of the index from an empty checkpoint, in a process of its own
   (`python -m benchmarks.assertions rebuild URL`: the projector as `timeline project --once`
   builds it, `Projector(store, Timelines(store, SnapshotStore(engine)))`, then `catch_up()`),
   started by the import section's small launcher so that its peak RSS (os.wait4's ru_maxrss) is
   its own. Over the two stores above and over a store of `--events` events (default 250,000;
   1,000,000 is the figure the goal names), incidents of 1,000 events (500 assertions, the same
   streams), one append each.

3. read_all: the large store's whole log paged 1,000 events at a time by `EventStore.read_all`,
   by `GET /v1/events` (the same server, the JSON decoded by the client), and by the raw driver
   (the floor): `SELECT <every column> FROM events WHERE position > ? ORDER BY position LIMIT 1000`,
   the JSON columns decoded (sqlite3: json.loads of data and metadata, times left as text;
   psycopg decodes json and timestamptz itself), rows as tuples. The three take turns ten pages at
   a time (harness.interleaved); ratios within each round.

Loading is not timed and uses `durability="fast"` (the measured paths read, and the rebuild writes
with the product's default, full). PostgreSQL: `VACUUM ANALYZE` after loading and after each
rebuild, as autovacuum would have done by the time analysts ask; SQLite gets no ANALYZE (the
product runs none).

`python -m benchmarks assertions [--quick] [--backends sqlite] [--events N] [--assertions-parts queries,rebuild,read_all]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
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

# -- sizes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    large_incidents: int
    small_incidents: int
    assertions_per_incident: int
    rebuild_events: int
    reps: int  # repetitions of every index request and small-store fold


FULL = Sizes(2_000, 20, 50, 250_000, 40)
QUICK = Sizes(10, 3, 30, 3_000, 5)
REBUILD_PER_INCIDENT = 1_000  # events per incident of the rebuild store (one append each)
PAGE = 1_000  # events per read_all page (GET /v1/events' largest)
PAGES_PER_STEP = 10
PARTS = ("queries", "rebuild", "read_all")
GOAL_P50_MS = 50.0
GOAL_GROWTH = 3.0
GOAL_REBUILD_RATE = 100_000
GOAL_RSS_MB = 300
GOAL_READ_ALL = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events",
        type=int,
        default=None,
        help=f"assertions section: events in the rebuild store (default {FULL.rebuild_events:,}; "
        f"{QUICK.rebuild_events:,} with --quick; the goal is stated for 1000000)",
    )
    parser.add_argument(
        "--assertions-parts",
        default=",".join(PARTS),
        help="assertions section: which measurements to run (comma-separated, default: all of "
        + ", ".join(PARTS)
        + ")",
    )


# -- the workload ---------------------------------------------------------------------------------

SPEAKER = "Kristi Noem"
ACTOR_ID = "kristi-noem"  # SPEAKER in the actors registry (registered before the streams are loaded)
SPEAKER_EVERY = 50  # one assertion in this many is attributed to SPEAKER
PHRASE = "body camera"
PHRASE_EVERY = 100  # one in this many says PHRASE in its text
PHRASE_TEXT = (
    "Officials said the body camera footage of the encounter would be shown to the family before any public release."
)
HEADLINES = (
    "County attorney says the review of the shooting will take weeks",
    "Agents involved in the shooting placed on administrative leave",
    "Witnesses describe several shots fired in quick succession",
    "State investigators open an inquiry into the shooting",
    "Protesters gather outside the federal building downtown",
    "Judge orders federal agencies to preserve all evidence",
    "Governor calls for an independent investigation",
    "Police release a timeline of the morning's events",
    "Family's lawyer disputes the official account",
    "Department of Homeland Security defends the agents' conduct",
    "City council passes a resolution on immigration enforcement",
    "Medical examiner rules the death a homicide",
)

Spec = tuple[str, dict[str, Any], Any]


def analysts_stream(seed: int, events: int, assertions: int, first_number: int) -> list[Spec]:
    """One incident's `incident_history`, rewritten for the analysts' questions: assertion k of the
    store (k = first_number + its number in the incident) is attributed to SPEAKER when
    k % SPEAKER_EVERY == 3 (and stays so through revisions), says PHRASE when k % PHRASE_EVERY == 7,
    and takes its headline from HEADLINES."""
    from benchmarks.timeline import incident_history

    speaking: set[str] = set()
    stream: list[Spec] = []
    for type_name, data, reported_at in incident_history(events, assertions, seed=seed):
        if type_name == "AssertionRecorded":
            number = first_number + int(data["assertion_id"].removeprefix("a-"))
            data = {**data, "headline": f"{HEADLINES[number % len(HEADLINES)]} ({number})"}
            if number % PHRASE_EVERY == 7:
                data["text"] = PHRASE_TEXT
            if number % SPEAKER_EVERY == 3:
                data["attributed_to"] = SPEAKER
                speaking.add(data["assertion_id"])
        elif (
            type_name == "AssertionRevised" and data["assertion_id"] in speaking and "attributed_to" in data["changes"]
        ):
            data = {**data, "changes": {**data["changes"], "attributed_to": SPEAKER}}
        stream.append((type_name, data, reported_at))
    return stream


def new_events(specs: list[Spec]) -> list:
    from app.store import NewEvent
    from benchmarks.timeline import schema_version

    return [NewEvent(type_name, data, schema_version(type_name), reported_at) for type_name, data, reported_at in specs]


def load_store(url: str, incidents: int, assertions: int) -> dict[str, Any]:
    """`incidents` incidents of `assertions` assertions (2 * assertions + 1 events each), appended
    in two halves, after SPEAKER is registered as ACTOR_ID: every first half, then every second half.
    Returns the shape and the middle (the end of the first halves)."""
    from app import commands
    from app.db import create_engine
    from app.store import EventStore

    engine = create_engine(url, durability="fast")
    store = EventStore(engine)
    events = 2 * assertions + 1
    started = time.perf_counter()
    middle = 0
    try:
        # First, so that the registry the index resolves names with at N is the one at the head.
        commands.register_actor(store, ACTOR_ID, SPEAKER, kind="person", actor="benchmark")
        for half in (0, 1):
            # Each stream is made again for its second half (deterministic): no 200,000 specs in memory.
            for index in range(incidents):
                specs = analysts_stream(index, events, assertions, index * assertions)
                part = specs[: events // 2] if half == 0 else specs[events // 2 :]
                store.append(f"inc-{index:05d}", new_events(part))
            if half == 0:
                middle = store.head_position()
        head = store.head_position()
        middle_event = store.read_all(after_position=middle - 1, limit=1)[0]
        # The middle ends an append, so "recorded by then" is the same cut-off as "up to N".
        assert store.position_at(middle_event.recorded_at) == middle, "the middle is not the end of an append"
    finally:
        engine.dispose()
    return {
        "incidents": incidents,
        "assertions": incidents * assertions,
        "events": head,
        "middle": middle,
        "middle_recorded_at": middle_event.recorded_at,
        "seconds": time.perf_counter() - started,
    }


def load_rebuild_store(url: str, total: int) -> dict[str, Any]:
    """`total` events in incidents of REBUILD_PER_INCIDENT events (half of them assertions), one append each."""
    from app.db import create_engine
    from app.store import EventStore

    engine = create_engine(url, durability="fast")
    store = EventStore(engine)
    started = time.perf_counter()
    incidents = 0
    try:
        while (written := store.head_position()) < total:
            events = min(REBUILD_PER_INCIDENT, total - written)
            if events < 2:  # an incident needs its opening and one assertion
                break
            assertions = max(1, events // 2)
            first = incidents * (REBUILD_PER_INCIDENT // 2)
            store.append(f"bulk-{incidents:05d}", new_events(analysts_stream(incidents, events, assertions, first)))
            incidents += 1
        head = store.head_position()
    finally:
        engine.dispose()
    return {"incidents": incidents, "events": head, "seconds": time.perf_counter() - started}


# -- backends -------------------------------------------------------------------------------------


class SQLite:
    name = "sqlite"

    def __enter__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="bench-assertions-"))
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.directory, ignore_errors=True)

    def database(self, name: str) -> dict[str, Any]:
        from app.db import migrate

        path = self.directory / f"{name}.db"
        url = f"sqlite:///{path}"
        migrate(url)
        return {"name": name, "url": url, "path": str(path)}

    def settle(self, db: dict[str, Any]) -> None:
        pass

    def raw(self, db: dict[str, Any]):
        connection = sqlite3.connect(db["path"], isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def floor_page(self, connection, after: int) -> tuple[int, int]:
        """One page of the log with the raw driver: (rows, last position)."""
        rows = connection.execute(FLOOR_SQL.replace("%s", "?"), (after,)).fetchall()
        decoded = [(*row[:6], json.loads(row[6]), json.loads(row[7]), *row[8:]) for row in rows]
        return len(decoded), decoded[-1][0] if decoded else after

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL), files under {self.directory}"


class Postgres:
    name = "postgres"

    def __enter__(self):
        self.server = temporary_postgres()
        try:
            import psycopg

            with psycopg.connect(self.server.dsn("postgres"), autocommit=True) as connection:
                self.version = connection.execute("SHOW server_version").fetchone()[0]
        except BaseException:
            self.server.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.server.stop()

    def database(self, name: str) -> dict[str, Any]:
        from app.db import migrate

        dbname = f"bench_assertions_{name}"
        self.server.create_database(dbname)
        url = self.server.url(dbname)
        migrate(url)
        return {"name": name, "url": url, "dsn": self.server.dsn(dbname)}

    def settle(self, db: dict[str, Any]) -> None:
        """What autovacuum would have done by now: statistics and the visibility map."""
        import psycopg

        with psycopg.connect(db["dsn"], autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")

    def raw(self, db: dict[str, Any]):
        import psycopg

        return psycopg.connect(db["dsn"], autocommit=True, options="-c timezone=UTC")

    def floor_page(self, connection, after: int) -> tuple[int, int]:
        rows = connection.execute(FLOOR_SQL, (after,)).fetchall()  # json and timestamptz decoded by psycopg
        return len(rows), rows[-1][0] if rows else after

    def describe(self) -> str:
        return f"PostgreSQL {self.version} (fsync=on, synchronous_commit=on), a throwaway cluster"


BACKENDS: dict[str, Callable[[], Any]] = {"sqlite": SQLite, "postgres": Postgres}
FLOOR_SQL = (
    "SELECT position, incident_id, version, event_id, type, schema_version, data, metadata, reported_at, "
    f"recorded_at, reported_day FROM events WHERE position > %s ORDER BY position LIMIT {PAGE}"
)


# -- 2. rebuild, in a process of its own -------------------------------------------------------------


def rebuild_main(url: str) -> None:
    """The child: a full projection of the index from an empty checkpoint, as `timeline project --once`."""
    import resource

    from app.db import create_engine
    from app.projections.index.projector import Projector
    from app.projections.reader import Timelines
    from app.projections.snapshots import SnapshotStore
    from app.store import EventStore

    engine = create_engine(url)
    store = EventStore(engine)
    projector = Projector(store, Timelines(store, SnapshotStore(engine)))
    if projector.position() != 0:
        raise SystemExit("the index is not empty: this measures a rebuild from an empty checkpoint")
    head = store.head_position()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    position = projector.catch_up()
    seconds = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"position": position, "head": head, "seconds": seconds, "rss_before": before}))


def rebuild(backend, db: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.importing import run_process

    wall, peak, out = run_process(["-m", "benchmarks.assertions", "rebuild", db["url"]], {})
    result = json.loads(out.strip().splitlines()[-1])
    if result["position"] != result["head"]:
        raise AssertionError(f"{db['name']}: the rebuild stopped at {result['position']} of {result['head']}")
    backend.settle(db)
    result.update(peak=peak, wall=wall, rows=index_rows(db["url"]))
    return result


def index_rows(url: str) -> int:
    import sqlalchemy as sa

    from app.db import create_engine
    from app.projections.index.tables import assertion_states

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(assertion_states)).scalar_one()
    finally:
        engine.dispose()


# -- 1. the queries --------------------------------------------------------------------------------


@dataclass
class Store:
    label: str
    db: dict[str, Any]
    shape: dict[str, Any]
    app: Any = None
    client: Any = None


def query_specs(store: Store) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Per query: the request's path, and the same answer by the fold (the app's own read service)."""
    from app.projections.index.query import Narrowing
    from app.projections.timeline import CutOff, Filters

    reads = store.app.state.reads
    middle, moment = store.shape["middle"], store.shape["middle_recorded_at"]

    def fold(cut_off, filters, narrowing=Narrowing()) -> Callable[[], Any]:
        return lambda: reads.fold_assertions(
            cut_off, filters, incidents=set(), limit=100, offset=0, narrowing=narrowing
        )

    return {
        "q=body camera": ("/v1/assertions?q=body%20camera", fold(CutOff(), Filters(), Narrowing(q=PHRASE))),
        "attributed_to=Kristi Noem": (
            "/v1/assertions?attributed_to=Kristi%20Noem",
            fold(CutOff(), Filters(attributed_to=SPEAKER)),
        ),
        f"actor={ACTOR_ID}": (
            f"/v1/assertions?actor={ACTOR_ID}",
            fold(CutOff(), Filters(), Narrowing(speakers=reads.actors.registry().names_of(ACTOR_ID))),
        ),
        "as_of_position=N&disputed=true": (
            f"/v1/assertions?as_of_position={middle}&disputed=true",
            fold(CutOff(as_of=moment), Filters(), Narrowing(disputed=True)),
        ),
    }


def percentile(samples: list[float], fraction: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[round(fraction * 100) - 1]


def measure_queries(options, sizes: Sizes, backend, large: Store, small: Store) -> tuple[list[tuple], dict]:
    stores = (large, small)
    specs = {store.label: query_specs(store) for store in stores}
    queries = list(specs[large.label])
    responses: dict[tuple[str, str], Any] = {}
    folded: dict[tuple[str, str], Any] = {}

    def request(store: Store, query: str) -> Callable[[], None]:
        path = specs[store.label][query][0]

        def get() -> None:
            response = store.client.get(path)
            if response.status_code != 200:
                raise AssertionError(f"GET {path}: {response.status_code} {response.text[:300]}")
            responses[(store.label, query)] = response

        return get

    def fold(store: Store, query: str) -> Callable[[], None]:
        run = specs[store.label][query][1]

        def call() -> None:
            folded[(store.label, query)] = run()

        return call

    turns: dict[tuple[str, str, str], Callable[[], None]] = {}
    for store in stores:
        for query in queries:
            turns[(store.label, query, "index")] = request(store, query)
    for query in queries:
        turns[(small.label, query, "fold")] = fold(small, query)
    for call in turns.values():  # warm: statements compiled, caches filled, the index checked at the head
        call()

    samples: dict[tuple[str, str, str], list[float]] = {key: [] for key in turns}
    keys = list(turns)
    for rep in range(sizes.reps):
        shift = rep % len(keys)
        order = keys[shift:] + keys[:shift]
        if (rep // len(keys)) % 2:
            order.reverse()
        for key in order:
            samples[key].append(timed(turns[key]))
    say(f"   index and small-store fold: {sizes.reps} repetitions each, taking turns")

    # The large store's folds take seconds: a few repetitions, apart.
    large_folds = {(large.label, query, "fold"): fold(large, query) for query in queries}
    samples.update({key: [] for key in large_folds})
    fold_keys = list(large_folds)
    for rep in range(options.rounds):
        shift = rep % len(fold_keys)
        for key in fold_keys[shift:] + fold_keys[:shift]:
            samples[key].append(timed(large_folds[key]))
            say(f"   fold {key[0]} {key[1]}: {samples[key][-1]:.1f} s")

    # Checked after timing: the index answers exactly what folding every incident answers.
    totals: dict[tuple[str, str], int] = {}
    for store in stores:
        for query in queries:
            body = responses[(store.label, query)].json()
            page = folded[(store.label, query)]
            expected = json.loads(json.dumps(page.assertions, default=str))
            if body["total"] != page.total or body["assertions"] != expected:
                raise AssertionError(
                    f"{backend.name} {store.label} {query}: the index answered {body['total']} assertions, "
                    f"the fold {page.total} (or other entries)"
                )
            if query.startswith("as_of_position") and body["position"] != store.shape["middle"]:
                raise AssertionError(f"{store.label}: answered at {body['position']}, not {store.shape['middle']}")
            totals[(store.label, query)] = page.total

    def p50(store: Store, query: str, path: str) -> float:
        return statistics.median(samples[(store.label, query, path)])

    rows = []
    for query in queries:
        for store in stores:
            for path in ("index", "fold"):
                values = samples[(store.label, query, path)]
                growth = ratio(p50(large, query, path) / p50(small, query, path)) if store is large else ""
                speed_up = ratio(p50(store, query, "fold") / p50(store, query, "index")) if path == "index" else ""
                goals = ""
                if store is large and path == "index":
                    met_p50 = p50(large, query, "index") * 1000 <= GOAL_P50_MS
                    met_growth = p50(large, query, "index") / p50(small, query, "index") <= GOAL_GROWTH
                    goals = f"p50 {'met' if met_p50 else 'NOT met'}; 100k/1k {'met' if met_growth else 'NOT met'}"
                rows.append(
                    (
                        backend.name,
                        f"{store.shape['assertions']:,} assertions",
                        query,
                        "index (HTTP)" if path == "index" else "fold (Python)",
                        f"{len(values)}",
                        f"{totals[(store.label, query)]:,}",
                        ms(statistics.median(values)),
                        ms(percentile(values, 0.95)),
                        growth,
                        speed_up,
                        goals,
                    )
                )
    return rows, totals


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


# -- 3. read_all against the raw driver ---------------------------------------------------------------

OURS, HTTP, FLOOR = "EventStore.read_all", "GET /v1/events", "floor (raw driver)"


def measure_read_all(options, backend, store: Store) -> list[tuple]:
    from app.db import create_engine
    from app.store import EventStore

    engine = create_engine(store.db["url"])
    events = EventStore(engine)
    raw = backend.raw(store.db)
    head = events.head_position()
    read: dict[str, int] = {}

    def ours(after: int) -> tuple[int, int]:
        page = events.read_all(after_position=after, limit=PAGE)
        return len(page), page[-1].position if page else after

    def http(after: int) -> tuple[int, int]:
        response = store.client.get("/v1/events", params={"after_position": after, "limit": PAGE})
        if response.status_code != 200:
            raise AssertionError(f"GET /v1/events: {response.status_code} {response.text[:300]}")
        body = response.json()
        return len(body["events"]), body["next_after_position"]

    readers = {OURS: ours, HTTP: http, FLOOR: lambda after: backend.floor_page(raw, after)}
    names = list(readers)
    steps = -(-head // (PAGE * PAGES_PER_STEP))

    def measure() -> dict[str, float]:
        read.clear()

        def step(name: str, index: int) -> None:
            after = index * PAGE * PAGES_PER_STEP
            for _ in range(PAGES_PER_STEP):
                count, after = readers[name](after)
                read[name] = read.get(name, 0) + count
                if count < PAGE:
                    break

        seconds = interleaved(names, steps, step)
        for name in names:  # checked after timing: every reader read the whole log
            if read[name] != head:
                raise AssertionError(f"{name} read {read[name]} events of {head}")
        return {name: head / seconds[name] for name in names}

    try:
        for name in names:  # warm
            readers[name](0)
        trials = rounds(options.rounds, names, measure)
    finally:
        raw.close()
        engine.dispose()
    say("   read_all rows/s per round: " + "; ".join(f"{n} {', '.join(map(rate, t.rates))}" for n, t in trials.items()))
    floor = trials[FLOOR]
    rows = []
    for name in names:
        trial = trials[name]
        rows.append(
            (
                backend.name,
                f"{head:,} events",
                name,
                rate(trial.best),
                ratio_range(ratios_by_round(trial, floor)) if name != FLOOR else "1.00×",
            )
        )
    return rows


# -- the section -----------------------------------------------------------------------------------


@contextmanager
def serving(store: Store) -> Iterator[Store]:
    import httpx

    from app.api.main import create_app
    from app.config import Settings
    from app.db import create_engine
    from tests.support.live import ThreadedServer

    engine = create_engine(store.db["url"])  # the app disposes of its engine when it stops
    store.app = create_app(Settings(database_url=store.db["url"], webhook_dispatcher=False), engine=engine)
    with ThreadedServer(store.app) as server, httpx.Client(base_url=server.url, timeout=300) as client:
        store.client = client
        try:
            yield store
        finally:
            store.client = None


def run(options: argparse.Namespace) -> None:
    sizes = QUICK if options.quick else FULL
    total_events = options.events or sizes.rebuild_events
    parts = [part.strip() for part in options.assertions_parts.split(",") if part.strip()]
    unknown = [name for name in options.backends if name not in BACKENDS] + [p for p in parts if p not in PARTS]
    if unknown:
        raise SystemExit(f"unknown backend(s) or part(s) {', '.join(unknown)}")

    query_rows: list[tuple] = []
    rebuild_rows: list[tuple] = []
    read_rows: list[tuple] = []
    loads: list[str] = []
    for backend_name in options.backends:
        with BACKENDS[backend_name]() as backend:
            say(f"-- {backend.describe()}")
            stores = {}
            if "queries" in parts or "read_all" in parts:
                for label, incidents in (("large", sizes.large_incidents), ("small", sizes.small_incidents)):
                    db = backend.database(label)
                    shape = load_store(db["url"], incidents, sizes.assertions_per_incident)
                    backend.settle(db)
                    stores[label] = Store(label, db, shape)
                    loads.append(
                        f"{backend_name} {label}: {shape['incidents']:,} incidents, {shape['assertions']:,} assertions, "
                        f"{shape['events']:,} events (middle N = {shape['middle']:,}), loaded in {shape['seconds']:.0f} s"
                    )
                    say(f"   {loads[-1]}")
            rebuilds = []
            if stores:  # the index at the head before anything is timed (else the app's follower projects meanwhile)
                for label in ("small", "large"):
                    result = rebuild(backend, stores[label].db)
                    shape = stores[label].shape
                    rebuilds.append((f"{shape['assertions']:,} assertions", shape["incidents"], result))
                    say(f"   rebuilt {label}: {result['seconds']:.1f} s, peak RSS {result['peak'] / 2**20:.0f} MB")
            if "rebuild" in parts:
                db = backend.database("rebuild")
                shape = load_rebuild_store(db["url"], total_events)
                backend.settle(db)
                loads.append(
                    f"{backend_name} rebuild store: {shape['incidents']:,} incidents, {shape['events']:,} events, "
                    f"loaded in {shape['seconds']:.0f} s"
                )
                say(f"   {loads[-1]}")
                result = rebuild(backend, db)
                rebuilds.append((f"{shape['events']:,} events", shape["incidents"], result))
                say(f"   rebuilt: {result['seconds']:.1f} s, peak RSS {result['peak'] / 2**20:.0f} MB")
            if "rebuild" in parts:
                for store_label, incidents, result in rebuilds:
                    per_second = result["head"] / result["seconds"]
                    met = per_second >= GOAL_REBUILD_RATE and result["peak"] < GOAL_RSS_MB * 2**20
                    rebuild_rows.append(
                        (
                            backend_name,
                            store_label,
                            f"{result['head']:,}",
                            f"{incidents:,}",
                            f"{result['rows']:,}",
                            f"{result['seconds']:,.1f}",
                            rate(per_second),
                            f"{result['peak'] / 2**20:,.0f} MB",
                            f"{result['rss_before'] / 2**20:,.0f} MB",
                            "met" if met else "NOT met",
                        )
                    )
            if stores:
                with ExitStack() as stack:
                    large = stack.enter_context(serving(stores["large"]))
                    small = stack.enter_context(serving(stores["small"]))
                    if "queries" in parts:
                        started = time.monotonic()
                        rows, _ = measure_queries(options, sizes, backend, large, small)
                        query_rows += rows
                        say(f"   (queries took {time.monotonic() - started:.0f} s)")
                    if "read_all" in parts:
                        started = time.monotonic()
                        read_rows += measure_read_all(options, backend, large)
                        say(f"   (read_all took {time.monotonic() - started:.0f} s)")

    print()
    for line in loads:
        print(f"store: {line}")
    if query_rows:
        print()
        print(
            format_table(
                (
                    "backend",
                    "store",
                    "query",
                    "path",
                    "n",
                    "matches",
                    "p50 ms",
                    "p95 ms",
                    "100k / 1k p50",
                    "fold / index p50",
                    f"goals (p50 ≤ {GOAL_P50_MS:.0f} ms; 100k/1k ≤ {GOAL_GROWTH:.0f}×)",
                ),
                query_rows,
                align="lllllrrrrrl",
            )
        )
        print(
            "index (HTTP): GET /v1/assertions?<query> (limit=100: a page and the total) through uvicorn on loopback, "
            "httpx in the same process; fold (Python): TimelineReads.fold_assertions with the same filters (N: as_of = "
            "the recorded time of position N), called directly; n: samples; matches: the total, equal on both paths "
            "(checked). 100k / 1k p50: this path's median at the large store over the small one's; fold / index: how "
            f"many times faster the index is. N = the log's middle. Goals at the large store: index p50 ≤ "
            f"{GOAL_P50_MS:.0f} ms, 100k / 1k within {GOAL_GROWTH:.0f}×."
        )
    if rebuild_rows:
        print()
        print(
            format_table(
                (
                    "backend",
                    "rebuild of",
                    "events",
                    "incidents",
                    "index rows",
                    "seconds",
                    "events/s",
                    "peak RSS",
                    "RSS before",
                    f"goals (≥ {GOAL_REBUILD_RATE:,} ev/s, < {GOAL_RSS_MB} MB)",
                ),
                rebuild_rows,
                align="llrrrrrrrl",
            )
        )
        print(
            "rebuild: Projector.catch_up() from an empty checkpoint to the head, in a process of its own (python -m "
            "benchmarks.assertions rebuild URL, built as `timeline project --once` builds it); seconds: catch_up alone "
            "(start-up not included); peak RSS: that process's ru_maxrss (os.wait4); RSS before: its high-water mark "
            "after imports and set-up, before catch_up. One run each."
        )
    if read_rows:
        print()
        print(format_table(("backend", "log", "reader", "rows/s", "vs floor"), read_rows, align="lllrr"))
        print(
            f"read_all: the whole log, {PAGE:,} events a page; the readers take turns {PAGES_PER_STEP} pages at a time; "
            f"rows/s: best of {options.rounds} round(s); vs floor: rows/s over the raw driver's within each round, "
            f"median (lowest–highest). Goal: EventStore.read_all ≥ {GOAL_READ_ALL:.1f}× the floor. The floor: "
            "sqlite3 json.loads of data and metadata, times left as text; psycopg decodes json and timestamptz itself."
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["rebuild"]:
        rebuild_main(sys.argv[2])
    else:
        raise SystemExit(f"usage: {os.path.basename(sys.executable)} -m benchmarks.assertions rebuild URL")
