"""Timeline reads: the pure fold, `GET /v1/incidents/{id}/timeline`, and as-of reads at the end of long histories.

Four measurements, all over the same kind of incident stream (`incident_history`): assertions
recorded with 1-3 sources, then corroborated (SourceAttached), revised, ranked, disputed and a few
retracted, in the proportions of a busy news story. Each assertion is carried by four of twelve
outlets (one URL each, so repeated corroboration deduplicates), disputed by a fixed partner with a
fixed note, revised among a few variants: an incident's state stays bounded however long its
history grows (the as-of table prints each state's JSON size). Every event passes the catalog's
validation; EDTF dates come from a pool of ~70 strings, as a real incident's dates cluster.

1. fold: `fold(...)` over 100,000 events held in memory (StoredEvent objects, as the store returns
   them), with and without `keep_history`, in events/s; then `entries(state, Filters())`, the
   rendering of a folded state as a timeline, for states of 10, 1,000 and 10,000 assertions, in
   ms per call (and `json.dumps` of the rendered body, what the JSON response then pays).
2. http: `GET /v1/incidents/{id}/timeline` against the real app served by uvicorn on loopback
   (tests/support/live.ThreadedServer, in this process: the httpx client shares the GIL with
   the server, so its cost is in the figure) for incidents of 10, 1,000 and 10,000 assertions
   (each with about as many follow-up events), warm: one GET first lays down the snapshots and
   fills the EDTF cache. Requests are sequential on one keep-alive connection; also the same GET
   with `If-None-Match` (a 304).
3. as-of: incidents of 1,000 and 100,000 events with ~100 assertions, appended durably through
   `EventStore.append` in batches of 1,000 (so recorded times increase batch by batch), except
   the last 100 events, appended one per append (live traffic after an import), so that an as-of
   time ~50 versions before the end exists. One read = `Timelines.version_for(id, CutOff(as_of=
   <recorded_at of the event 50 versions before the end>), current)` + `Timelines.state(...)` +
   `entries(...)`. Both incidents carry ~100 assertions and a state of similar size, so their ratio
   (long / short) isolates the length of the history. The rows:
   - snapshots, warm: `Timelines(store, SnapshotStore(engine))` after one read laid them down;
   - snapshots, first read: the read that lays them down (one sample, no snapshot existed);
   - no snapshots: `Timelines(store, None)` (read the whole prefix and fold it);
   - floor (raw driver): sqlite3 / psycopg `SELECT position, version, type, data, reported_at,
     recorded_at FROM events WHERE incident_id = ? AND version <= ? ORDER BY version`, the data
     json-decoded (psycopg decodes the json column itself): the least a rebuild without snapshots
     pays. It starts from the version (no time-to-version step) and builds no objects.
4. version_at: `EventStore.version_at` alone, at three moments of each as-of incident (that as-of
   time, the middle of its history, and now, after the other incidents were loaded: a quiet
   incident among busy ones): one step down the (incident_id, recorded_at, version) index.

Every backend gets one database (a SQLite file in a temp directory; a throwaway PostgreSQL cluster
from tests/support/postgres.py, stopped at the end), holding all the section's incidents.
Results are checked after timing: the 200s carry every expected entry, snapshot and snapshot-less
reads render identical entries, the floor reads the expected number of rows.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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
    fold_events: int
    fold_assertions: int
    entries_assertions: tuple[int, ...]  # also the incidents of the http measurement
    histories: tuple[int, ...]  # events of the as-of incidents: (short, long)
    history_assertions: int
    tail: int  # the last events of an as-of incident, appended one per append
    as_of_back: int  # the as-of time is the recorded_at of the event this many versions before the end
    steps: int  # interleaved steps per round (a few tens of ms each, or one slow read)
    step_seconds: float  # the work a step aims for


FULL = Sizes(100_000, 10_000, (10, 1_000, 10_000), (1_000, 100_000), 100, 100, 50, steps=3, step_seconds=0.05)
QUICK = Sizes(2_000, 200, (10, 100, 300), (300, 1_500), 30, 60, 50, steps=2, step_seconds=0.01)
BATCH = 1_000  # events per append when loading

# -- the workload: a realistic incident stream ---------------------------------------------------

BASE = datetime(2026, 1, 24, 9, 0, tzinfo=timezone.utc)
OUTLETS = (  # (outlet, domain or None: some outlets are cited without a link, as in the samples)
    ("Minnesota Star Tribune", "startribune.com"),
    ("The New York Times", "nytimes.com"),
    ("Associated Press", "apnews.com"),
    ("Reuters", "reuters.com"),
    ("CNN", None),
    ("FOX 9", None),
    ("MPR News", "mprnews.org"),
    ("The Guardian", "theguardian.com"),
    ("BBC News", "bbc.com"),
    ("Sky News", None),
    ("The Washington Post", "washingtonpost.com"),
    ("KARE 11", "kare11.com"),
)
KINDS = (
    "shooting",
    "official_statement",
    "investigation_opened",
    "investigation_finding",
    "evidence_released",
    "protest",
    "arrest",
    "personnel_change",
    "court_order",
    "other",
)
OCCURRED = (
    *(f"2026-01-{day:02d}" for day in range(1, 32)),
    *(f"2026-02-{day:02d}" for day in range(1, 29)),
    "2026-01",
    "2026-02",
    "2025-10",
    "2025",
    "2026-01-24~",
    "2026-01-2X",
    "2026-01-26/2026-01-30",
    "2026-01-24?",
    "2026-01-24T09:05:00Z",
    "2026-21",
    "2026-01-26/..",
)
PEOPLE = (
    "Hennepin County Attorney",
    "Minneapolis Police Department",
    "Department of Homeland Security",
    "Governor Tim Walz",
    "Mayor Jacob Frey",
    "a witness",
    "the family's lawyer",
)
QUOTES = (
    "We will review every second of footage before any decision is made.",
    "The agents involved have been placed on administrative leave pending the review.",
    "Witnesses described hearing several shots in quick succession.",
)
NOTES = ("The timing differs from the police account.", None, "Contradicted by the released video.")
REASONS = ("new reporting", "correction from the outlet", "official record released")
OUTLETS_PER_ASSERTION = 4
RETRACT_EVERY = 20  # one assertion in this many is retracted (once), as a withdrawn claim is

Spec = tuple[str, dict[str, Any], datetime]  # (type, data, reported_at): an append's input


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _carried_by(number: int) -> list[tuple[str, str | None]]:
    """The outlets that report on assertion `number`: four of the twelve, as a story is carried by a few."""
    return [OUTLETS[(number + 3 * k) % len(OUTLETS)] for k in range(OUTLETS_PER_ASSERTION)]


def _source(carrier: tuple[str, str | None], number: int, reported_at: datetime, *, quote: str | None) -> dict:
    outlet, domain = carrier
    source: dict[str, Any] = {"outlet": outlet}
    if domain:  # one URL per (outlet, assertion): repeated corroboration deduplicates
        source["url"] = f"https://www.{domain}/news/minneapolis-shooting-investigation-{number:06d}"
    source["published_at"] = _time(reported_at)
    if quote:
        source["quote"] = quote
    return source


def incident_history(events: int, assertions: int, seed: int = 7) -> list[Spec]:
    """`events` events of one incident (IncidentOpened first) recording `assertions` assertions,
    spread evenly through the stream; every other event works on an assertion already recorded."""
    if not 1 <= assertions < events:
        raise ValueError("an incident history needs 1 <= assertions < events")
    rng = random.Random(seed)
    specs: list[Spec] = [
        (
            "IncidentOpened",
            {
                "title": "Shooting of Alex Pretti",
                "summary": "A man was shot by federal agents in Minneapolis.",
                "location": {"name": "Minneapolis, Minnesota", "lat": 44.9778, "lon": -93.265},
                "tags": ["minneapolis", "immigration-enforcement"],
            },
            BASE,
        )
    ]
    recording_at = {1 + (index * (events - 1)) // assertions for index in range(assertions)}
    recorded: list[int] = []
    retracted: set[int] = set()
    for index in range(1, events):
        reported_at = BASE + timedelta(minutes=index)
        if index in recording_at:
            number = len(recorded)
            recorded.append(number)
            data = {
                "assertion_id": f"a-{number:06d}",
                "kind": rng.choice(KINDS),
                "occurred": rng.choice(OCCURRED),
                "headline": f"Investigators will review all body-camera footage of the shooting ({number})",
                "text": "The county attorney's office said the review would include footage from every agent "
                "present, and that no charging decision would be made before it was complete.",
                "attributed_to": rng.choice(PEOPLE),
                "actors": ["Alex Pretti", rng.choice(PEOPLE)],
                "sources": [
                    _source(outlet, number, reported_at, quote=rng.choice(QUOTES))
                    for outlet in rng.sample(_carried_by(number), rng.randint(1, 3))
                ],
            }
            if rng.random() < 0.3:
                data["location"] = {"name": "Minneapolis, Minnesota", "lat": 44.9778, "lon": -93.265}
            specs.append(("AssertionRecorded", data, reported_at))
            continue
        number = rng.choice(recorded)
        assertion_id = f"a-{number:06d}"
        roll = rng.random()
        if roll < 0.05 and number % RETRACT_EVERY == RETRACT_EVERY - 1 and number not in retracted:
            retracted.add(number)
            data = {"assertion_id": assertion_id, "reason": "the outlet withdrew the report"}
            specs.append(("AssertionRetracted", data, reported_at))
        elif roll < 0.20:
            # disputed by its successor (its predecessor until that is recorded): a fixed pair
            partner = number + 1 if number + 1 < len(recorded) else number - 1
            if partner < 0:  # the only assertion so far
                specs.append(("AssertionRanked", {"assertion_id": assertion_id, "rank": "normal"}, reported_at))
                continue
            data = {"assertion_id": assertion_id, "by_assertion_id": f"a-{partner:06d}"}
            if note := NOTES[(number + partner) % len(NOTES)]:
                data["note"] = note
            specs.append(("AssertionDisputed", data, reported_at))
        elif roll < 0.40:
            variant = rng.randrange(3)
            changes = rng.choice(
                (
                    {"occurred": rng.choice(OCCURRED)},
                    {"headline": f"Investigators to review all footage of the shooting ({number}, update {variant})"},
                    {"occurred": rng.choice(OCCURRED), "attributed_to": rng.choice(PEOPLE)},
                )
            )
            data = {"assertion_id": assertion_id, "changes": changes, "reason": rng.choice(REASONS)}
            specs.append(("AssertionRevised", data, reported_at))
        elif roll < 0.55:
            data = {"assertion_id": assertion_id, "rank": rng.choice(("preferred", "normal", "deprecated"))}
            if rng.random() < 0.5:
                data["reason"] = rng.choice(REASONS)
            specs.append(("AssertionRanked", data, reported_at))
        else:
            quote = rng.choice(QUOTES) if rng.random() < 0.3 else None
            source = _source(rng.choice(_carried_by(number)), number, reported_at, quote=quote)
            specs.append(("SourceAttached", {"assertion_id": assertion_id, "source": source}, reported_at))
    return specs


def schema_version(type_name: str) -> int:
    return 2 if type_name == "AssertionRecorded" else 1


def in_memory(incident_id: str, specs: list[Spec]) -> list:
    """The specs as the store would return them: StoredEvents, recorded_at rising batch by batch."""
    from app.store import StoredEvent

    stored = []
    for version, (type_name, data, reported_at) in enumerate(specs, start=1):
        recorded_at = BASE + timedelta(days=30, seconds=(version - 1) // BATCH)
        # The fold never changes an event's data, so the specs' dicts can be shared.
        event_id = f"00000000-0000-4000-8000-{version:012d}"
        stored.append(
            StoredEvent(
                version,
                incident_id,
                version,
                event_id,
                type_name,
                schema_version(type_name),
                data,
                {},
                reported_at,
                recorded_at,
            )
        )
    return stored


def load(store, incident_id: str, specs: list[Spec], tail: int = 0) -> float:
    """Append durably through EventStore.append, BATCH events at a time, the last `tail` one at a time."""
    from app.store import NewEvent

    def new(spec: Spec) -> NewEvent:
        type_name, data, reported_at = spec
        return NewEvent(type_name, data, schema_version(type_name), reported_at)

    started = time.perf_counter()
    body, rest = specs[: len(specs) - tail], specs[len(specs) - tail :]
    for start in range(0, len(body), BATCH):
        store.append(incident_id, [new(spec) for spec in body[start : start + BATCH]])
    for spec in rest:
        store.append(incident_id, [new(spec)])
    return time.perf_counter() - started


def per_step(run: Callable[[], Any], budget: float) -> int:
    """How many calls of `run` make a step of about `budget` seconds (a second call when the first,
    which warms up, was quick enough to be worth timing again)."""
    seconds = timed(run)
    if seconds < budget:
        seconds = timed(run)
    return max(1, round(budget / max(seconds, 1e-6)))


def slower(trial, reference) -> str:
    """How many times as long as `reference` `trial` took, round by round: `0.55× (0.51–0.58)`."""
    return "1.00×" if trial is reference else ratio_range(ratios_by_round(reference, trial))


def say_rounds(what: str, trials: dict, shown: Callable[[float], str]) -> None:
    say(f"   {what} per round: " + "; ".join(f"{name} {', '.join(map(shown, t.rates))}" for name, t in trials.items()))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f}" if seconds < 0.1 else f"{seconds * 1000:,.0f}"


def as_json_response(body: dict[str, Any]) -> bytes:
    """What starlette's JSONResponse does with the route's body."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


# -- 1. the pure fold ------------------------------------------------------------------------------


def measure_fold(options, sizes: Sizes) -> str:
    from app.projections.timeline import Filters, entries, fold

    events = in_memory("fold-bench", incident_history(sizes.fold_events, sizes.fold_assertions))
    slices = [events[start : start + 2_500] for start in range(0, len(events), 2_500)]
    names = ("fold", "fold, keep_history=True")

    def measure() -> dict[str, float]:
        states = {name: None for name in names}

        def step(name: str, index: int) -> None:
            states[name] = fold("fold-bench", slices[index], state=states[name], keep_history=name != "fold")

        seconds = interleaved(names, len(slices), step)
        return {name: len(events) / seconds[name] for name in names}

    fold_trials = rounds(options.rounds, names, measure)
    say_rounds("fold events/s", fold_trials, rate)

    states = {}
    for count in sizes.entries_assertions:
        specs = incident_history(2 * count + 1, count, seed=count)
        states[count] = fold("entries-bench", in_memory("entries-bench", specs))
    labels = {count: f"{count:,} assertions" for count in states}
    rendered = {count: entries(state, Filters()) for count, state in states.items()}  # fills the EDTF cache
    bodies = {
        count: {
            "incident": states[count]["incident"],
            "version": states[count]["version"],
            "cut_off": {},
            "entries": rendered[count],
        }
        for count in states
    }
    names2 = [f"entries {count}" for count in states]
    calls = {
        name: per_step(lambda count=count: entries(states[count], Filters()), sizes.step_seconds)
        for name, count in zip(names2, states)
    }

    def measure_entries() -> dict[str, float]:
        def step(name: str, index: int) -> None:
            state = states[int(name.split()[1])]
            for _ in range(calls[name]):
                entries(state, Filters())

        seconds = interleaved(names2, sizes.steps, step)
        return {name: calls[name] * sizes.steps / seconds[name] for name in names2}

    entry_trials = rounds(options.rounds, names2, measure_entries)
    # Encoding the body is slow for the big ones (most of a second for 10,000 entries): timed apart,
    # best of as many single calls as there are rounds.
    encoded = {count: as_json_response(bodies[count]) for count in states}
    dumps = {
        count: min(timed(lambda count=count: as_json_response(bodies[count])) for _ in range(options.rounds))
        for count in states
    }

    fold_rows = [
        (
            f"{len(events):,} events, {sizes.fold_assertions:,} assertions",
            name,
            rate(trial.best),
            f"{1e6 / trial.best:.2f}",
            ratio_range(ratios_by_round(trial, fold_trials["fold"])),
        )
        for name, trial in fold_trials.items()
    ]
    entry_rows = []
    for count in states:
        trial = entry_trials[f"entries {count}"]
        shown = len(rendered[count])
        entry_rows.append(
            (
                labels[count],
                f"{shown:,}",
                ms(1 / trial.best),
                rate(trial.best * shown),
                ms(dumps[count]),
                f"{len(encoded[count]) / 1024:,.0f}",
            )
        )
    return (
        format_table(("fold workload", "call", "events/s", "µs/event", "events/s vs fold"), fold_rows, align="llrrr")
        + "\n\n"
        + format_table(
            ("entries() of a state", "entries shown", "entries() ms", "entries/s", "json.dumps ms", "body KB"),
            entry_rows,
            align="lrrrrr",
        )
        + f"\nfold: best of {options.rounds} round(s), the two calls taking turns slice by slice (2,500 events); "
        "vs fold: median of the rounds (lowest–highest); "
        "entries(): Filters() (retracted entries hidden), EDTF cache warm, best of the rounds, the three states taking "
        "turns; json.dumps: of the response body, as JSONResponse does it, best of as many single calls."
    )


# -- backends -------------------------------------------------------------------------------------


class SQLite:
    name = "sqlite"

    def __enter__(self):
        from app.db import migrate

        self.directory = Path(tempfile.mkdtemp(prefix="bench-timeline-"))
        self.path = self.directory / "timeline.db"
        self.url = f"sqlite:///{self.path}"
        migrate(self.url)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.directory, ignore_errors=True)

    def raw(self):
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def floor_read(self, connection, incident_id: str, version: int) -> int:
        rows = connection.execute(
            "SELECT position, version, type, data, reported_at, recorded_at FROM events "
            "WHERE incident_id = ? AND version <= ? ORDER BY version",
            (incident_id, version),
        ).fetchall()
        decoded = [json.loads(row[3]) for row in rows]
        return len(decoded)

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL), {self.path}"


class Postgres:
    name = "postgres"

    def __enter__(self):
        from app.db import migrate

        self.server = temporary_postgres()
        try:
            self.server.create_database("bench_timeline")
            self.url = self.server.url("bench_timeline")
            migrate(self.url)
            with self.raw() as connection:
                self.version = connection.execute("SHOW server_version").fetchone()[0]
        except BaseException:
            self.server.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.server.stop()

    def raw(self):
        import psycopg

        return psycopg.connect(self.server.dsn("bench_timeline"), autocommit=True)

    def floor_read(self, connection, incident_id: str, version: int) -> int:
        rows = connection.execute(
            "SELECT position, version, type, data, reported_at, recorded_at FROM events "
            "WHERE incident_id = %s AND version <= %s ORDER BY version",
            (incident_id, version),
        ).fetchall()
        return len(rows)  # the json column arrives decoded (psycopg's json loader)

    def describe(self) -> str:
        return f"PostgreSQL {self.version} (fsync=on, synchronous_commit=on), a throwaway cluster"


BACKENDS = {"sqlite": SQLite, "postgres": Postgres}


# -- 2. GET /timeline through the real server ------------------------------------------------------


def measure_http(options, sizes: Sizes, backend, engine, loads: list) -> list[tuple]:
    import httpx

    from app.api.main import create_app
    from app.config import Settings
    from app.db import create_engine
    from app.projections.actors import with_actor_ids
    from app.projections.reader import Timelines
    from app.projections.timeline import Filters, entries
    from app.store import EventStore
    from events.actors import Registry
    from tests.support.live import ThreadedServer

    store = EventStore(engine)
    incidents = {}
    for count in sizes.entries_assertions:
        incident_id = f"http-{count}"
        specs = incident_history(2 * count + 1, count, seed=count)
        seconds = load(store, incident_id, specs)
        loads.append((backend.name, incident_id, len(specs), -(-len(specs) // BATCH), seconds))
        # As the API serves them: with the actor ids the registry (empty here) resolves.
        expected = with_actor_ids(entries(Timelines(store, None).state(incident_id, len(specs)), Filters()), Registry())
        incidents[count] = (incident_id, len(specs), expected)

    app_engine = create_engine(backend.url)  # the app disposes of its engine when it stops
    app = create_app(Settings(database_url=backend.url, webhook_dispatcher=False), engine=app_engine)
    results = []
    with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        paths, etags, sizes_kb = {}, {}, {}
        for count, (incident_id, version, expected) in incidents.items():
            path = f"/v1/incidents/{incident_id}/timeline"
            first = client.get(path)  # lays down the snapshots, fills the EDTF cache
            assert first.status_code == 200, first.text
            body = first.json()
            assert body["version"] == version and body["entries"] == expected, f"{incident_id}: unexpected timeline"
            paths[count], etags[count], sizes_kb[count] = path, first.headers["etag"], len(first.content) / 1024

        def get(count: int, conditional: bool) -> None:
            headers = {"If-None-Match": etags[count]} if conditional else None
            response = client.get(paths[count], headers=headers)
            if response.status_code != (304 if conditional else 200):
                raise AssertionError(f"GET {paths[count]}: {response.status_code} {response.text[:200]}")

        keys = {
            f"{count:,}: {304 if conditional else 200}": (count, conditional)
            for count in incidents
            for conditional in (False, True)
        }
        names = list(keys)
        calls = {name: per_step(lambda key=key: get(*key), sizes.step_seconds) for name, key in keys.items()}

        def measure() -> dict[str, float]:
            def step(name: str, index: int) -> None:
                for _ in range(calls[name]):
                    get(*keys[name])

            seconds = interleaved(names, sizes.steps, step)
            return {name: calls[name] * sizes.steps / seconds[name] for name in names}

        trials = rounds(options.rounds, names, measure)
        say_rounds("GET requests/s", trials, rate)
        for name, (count, conditional) in keys.items():
            incident_id, version, expected = incidents[count]
            trial, full = trials[name], trials[f"{count:,}: 200"]
            results.append(
                (
                    backend.name,
                    f"{count:,} assertions ({version:,} ev)",
                    "304 If-None-Match" if conditional else "200",
                    f"{trial.best:,.1f}",
                    ms(1 / trial.best),
                    "0" if conditional else f"{sizes_kb[count]:,.0f}",
                    slower(trial, full),
                )
            )
    return results


# -- 3. as-of reads at the end of long histories ---------------------------------------------------

WARM, COLD, NONE, FLOOR = "snapshots, warm", "snapshots, first read", "no snapshots", "floor (raw driver)"


def measure_as_of(options, sizes: Sizes, backend, engine, loads: list) -> tuple[list[tuple], dict]:
    from app.projections.reader import Timelines
    from app.projections.snapshots import SnapshotStore
    from app.projections.timeline import CutOff, Filters, entries
    from app.store import EventStore

    store = EventStore(engine)
    readers = {WARM: Timelines(store, SnapshotStore(engine)), NONE: Timelines(store, None)}

    def read(timelines, incident_id: str, cut_off, current: int) -> list[dict[str, Any]]:
        """One as-of read: the cut-off turned into a version, the state at it, its entries."""
        return entries(timelines.state(incident_id, timelines.version_for(incident_id, cut_off, current)), Filters())

    raw = backend.raw()
    histories = {}
    cold = {}
    try:
        for events in sizes.histories:
            incident_id = f"as-of-{events}"
            specs = incident_history(events, sizes.history_assertions, seed=events)
            seconds = load(store, incident_id, specs, tail=sizes.tail)
            loads.append((backend.name, incident_id, events, -(-(events - sizes.tail) // BATCH) + sizes.tail, seconds))
            target = store.read_stream(incident_id, after_version=events - sizes.as_of_back - 1, limit=1)[0]
            cut_off = CutOff(as_of=target.recorded_at)
            version = readers[WARM].version_for(incident_id, cut_off, events)
            histories[events] = (incident_id, cut_off, version)
            # No snapshot of this incident exists yet: this read lays them down.
            cold[events] = timed(lambda: read(readers[WARM], incident_id, cut_off, events))

        def reader_for(name: str, events: int) -> Callable[[], Any]:
            incident_id, cut_off, version = histories[events]
            if name == FLOOR:
                return lambda: backend.floor_read(raw, incident_id, version)
            return lambda: read(readers[name], incident_id, cut_off, events)

        keys = [(name, events) for events in sizes.histories for name in (WARM, NONE, FLOOR)]
        names = [f"{name} {events}" for name, events in keys]
        runs = {label: reader_for(*key) for label, key in zip(names, keys)}
        calls = {label: per_step(run, sizes.step_seconds) for label, run in runs.items()}
        outputs: dict[str, Any] = {}  # each path's last result, checked after timing

        def measure() -> dict[str, float]:
            def step(label: str, index: int) -> None:
                run = runs[label]
                for _ in range(calls[label]):
                    outputs[label] = run()

            seconds = interleaved(names, sizes.steps, step)
            return {label: calls[label] * sizes.steps / seconds[label] for label in names}

        trials = rounds(options.rounds, names, measure)
        say_rounds("as-of reads/s", trials, lambda value: f"{value:,.1f}")

        # Checked after timing: every path gives the same timeline, the floor reads every row.
        for events, (incident_id, cut_off, version) in histories.items():
            assert events - sizes.as_of_back <= version < events, (events, version)
            warm, none = (outputs[f"{name} {events}"] for name in (WARM, NONE))
            assert warm == none and len(warm) > 0, f"{incident_id}: the read paths disagree"
            assert outputs[f"{FLOOR} {events}"] == version, f"{incident_id}: the floor read another number of rows"
    finally:
        raw.close()

    short, long = sizes.histories
    results = []
    for events in sizes.histories:
        incident_id, cut_off, version = histories[events]
        floor = trials[f"{FLOOR} {events}"]
        state_kb = len(json.dumps(readers[NONE].state(incident_id, version))) / 1024
        label = f"{events:,} ev, as of v{version:,}, state {state_kb:,.0f} KB"
        for name in (WARM, COLD, NONE, FLOOR):
            if name == COLD:  # one sample each, taken apart from the others
                seconds = cold[events]
                against_floor = ratio(seconds * floor.best)
                against_short = ratio(cold[long] / cold[short])
            else:
                trial = trials[f"{name} {events}"]
                seconds = 1 / trial.best
                against_floor = slower(trial, floor)
                against_short = slower(trial, trials[f"{name} {short}"])
            results.append(
                (
                    backend.name,
                    label,
                    name,
                    ms(seconds),
                    against_floor,
                    against_short if events == long else "",
                )
            )
    return results, histories


# -- 4. version_at alone -----------------------------------------------------------------------------


def measure_version_at(options, sizes: Sizes, backend, engine, histories: dict) -> list[tuple]:
    """`EventStore.version_at` alone at three moments of each as-of incident: the as-of time of the
    reads (~50 versions before its end), the middle of its history, and now (after the incidents
    loaded since: a quiet incident among busy ones)."""
    from app.db import utcnow
    from app.store import EventStore

    store = EventStore(engine)

    def settle() -> None:
        """On PostgreSQL, what autovacuum would have done by now: statistics and the visibility map."""
        if backend.name == "postgres":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE events")

    settle()
    head = store.head_position()
    points = {}
    for events, (incident_id, cut_off, version) in histories.items():
        middle = store.read_stream(incident_id, after_version=events // 2 - 1, limit=1)[0].recorded_at
        last = store.read_stream(incident_id, after_version=events - 1)[0].position
        points[(events, f"{sizes.as_of_back} before the end")] = (incident_id, cut_off.as_of, version)
        points[(events, "middle")] = (incident_id, middle, store.version_at(incident_id, middle))
        points[(events, f"now, {head - last:,} events of others since")] = (incident_id, utcnow(), events)

    def timings(implementations: dict[str, Any], what: str) -> dict[str, Any]:
        keys = {
            f"{impl} {events} {where}": (impl, events, where) for events, where in points for impl in implementations
        }
        runs = {}
        for name, (impl, events, where) in keys.items():
            incident_id, moment, version = points[(events, where)]
            runs[name] = lambda impl=impl, incident_id=incident_id, moment=moment: implementations[impl].version_at(
                incident_id, moment
            )
            assert runs[name]() == version, name  # every query finds the same version
        calls = {name: per_step(run, sizes.step_seconds) for name, run in runs.items()}

        def measure() -> dict[str, float]:
            def step(name: str, index: int) -> None:
                for _ in range(calls[name]):
                    runs[name]()

            seconds = interleaved(list(keys), sizes.steps, step)
            return {name: calls[name] * sizes.steps / seconds[name] for name in keys}

        trials = rounds(options.rounds, list(keys), measure)
        say_rounds(f"version_at calls/s{what}", trials, rate)
        return trials

    trials = timings({"product": store}, "")
    rows = []
    for (events, where), (incident_id, moment, version) in points.items():
        product = trials[f"product {events} {where}"]
        rows.append((backend.name, f"{events:,} ev", f"{where} (v{version:,})", ms(1 / product.best)))
    return rows


# -- the section ----------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> None:
    sizes = QUICK if options.quick else FULL
    unknown = [name for name in options.backends if name not in BACKENDS]
    if unknown:
        raise SystemExit(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")

    counts = ", ".join(f"{count:,}" for count in sizes.entries_assertions)
    say(f"-- fold: {sizes.fold_events:,} events in memory; entries() of {counts} assertions")
    started = time.monotonic()
    fold_tables = measure_fold(options, sizes)
    say(f"   (fold took {time.monotonic() - started:.0f} s)")

    from app.db import create_engine

    http_rows, as_of_rows, version_at_rows, loads = [], [], [], []
    for backend_name in options.backends:
        with BACKENDS[backend_name]() as backend:
            say(f"-- {backend.describe()}")
            engine = create_engine(backend.url)
            try:
                started = time.monotonic()
                rows, histories = measure_as_of(options, sizes, backend, engine, loads)
                as_of_rows += rows
                say(f"   (as-of took {time.monotonic() - started:.0f} s)")
                started = time.monotonic()
                http_rows += measure_http(options, sizes, backend, engine, loads)
                say(f"   (http took {time.monotonic() - started:.0f} s)")
                started = time.monotonic()
                version_at_rows += measure_version_at(options, sizes, backend, engine, histories)
                say(f"   (version_at took {time.monotonic() - started:.0f} s)")
            finally:
                engine.dispose()

    print()
    print(fold_tables)
    print()
    print(
        format_table(
            ("backend", "incident", "events", "appends", "seconds", "events/s"),
            [
                (b, incident, f"{events:,} ev", f"{appends:,}", f"{seconds:.1f}", rate(events / seconds))
                for b, incident, events, appends, seconds in loads
            ],
            align="llrrrr",
        )
    )
    print(
        f"loading: EventStore.append, durable, {BATCH:,} events per append (as-of incidents: the last "
        f"{sizes.tail} events one per append)."
    )
    print()
    print(
        format_table(
            ("backend", "GET /timeline", "response", "requests/s", "ms/request", "body KB", "time vs 200"),
            http_rows,
            align="lllrrrr",
        )
    )
    print(
        f"requests/s: best of {options.rounds} round(s), sequential on one keep-alive connection, the six "
        "requests taking turns; warm (snapshots laid down, EDTF cache filled). time vs 200: this response's time "
        "over the 200's of the same incident, median of the rounds (lowest–highest)."
    )
    print()
    print(
        format_table(
            ("backend", "as-of read", "path", "ms/read", "time vs floor", "long / short"),
            as_of_rows,
            align="lllrrr",
        )
    )
    print(
        f"ms/read: version_for + state + entries, best of {options.rounds} round(s), the paths taking turns; "
        "first read: one sample, compared with the best figures. time vs floor: this path's time over the raw "
        "driver's read of the same rows; long / short: this path's time at "
        f"{sizes.histories[1]:,} events over its time at {sizes.histories[0]:,} (goal for warm snapshots: within "
        "1.50×); both the median of the rounds (lowest–highest)."
    )
    print()
    print(format_table(("backend", "version_at", "as of", "ms"), version_at_rows, align="lllr"))
    print(
        "version_at: EventStore.version_at(incident, moment) alone (one short transaction: the newest event "
        "recorded by then, one step down the (incident_id, recorded_at, version) index); "
        f"ms: best of {options.rounds} round(s). PostgreSQL: VACUUM ANALYZE events first, as autovacuum "
        "would have run by then."
    )
