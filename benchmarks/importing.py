"""`timeline import` of a large generated file: events/s against the raw-driver floor, and peak memory.

The file (made before timing, streamed to a temp file, never held in memory): `--import-lines`
lines (default 200,000, ~3 minutes for both backends here; the memory goal is stated for 1,000,000:
`--import-lines 1000000`, ~14 minutes) over one incident per 10,000 lines, in runs of 1,000 lines per incident taken
round-robin (so every incident comes back many times, and a run is one append). Each incident opens
with IncidentOpened; then, repeating: 5 AssertionRecorded (~430 bytes of data, as in the append
section), 2 SourceAttached, 1 AssertionRanked, 1 AssertionDisputed, 1 AssertionRevised, all
pointing at assertions recorded earlier. No line has an event_id (ids are derived from the
content), half the lines give `reported_at` as a day, half as a time; every line is valid.

Rows, per backend, each in a fresh database and a process of its own (`python -m app.cli import FILE
--quiet`, as an operator runs it), peak RSS read from that process's rusage (os.wait4):

- import: into an empty store: the check of every line, then the write through the handlers;
- import again: the same file into the store that now holds it: everything is skipped;
- floor (raw driver): the same file into the same `events` table (made by `app.db.migrate`) with
  the raw driver and nothing else: read a line, json-decode it, insert the row (positions and
  versions counted in Python, a uuid4 per event), 1,000 rows per transaction — sqlite3
  `executemany`, psycopg `COPY` — at the same durability as the append section.

`python -m benchmarks import [--quick] [--backends sqlite,postgres] [--import-lines N]`
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks.harness import format_table, rate, ratio, say

PER_INCIDENT = 10_000  # lines per incident in the file
RUN = 1_000  # consecutive lines of one incident
QUICK_LINES = 3_000
DEFAULT_LINES = 200_000
REPO = Path(__file__).resolve().parents[1]
PATTERN = ("record",) * 5 + ("source", "source", "rank", "dispute", "revise")
OUTLETS = ("Minnesota Star Tribune", "CNN", "The New York Times", "FOX 9", "Sky News", "Associated Press")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--import-lines",
        type=int,
        default=None,
        help=f"import section: lines in the generated file (default {DEFAULT_LINES:,}; "
        f"{QUICK_LINES:,} with --quick; the memory goal is stated for 1000000)",
    )


# -- the file -----------------------------------------------------------------------------------


def incident_events(incident: str, count: int) -> Iterator[dict[str, Any]]:
    """One incident's lines, in its own order; every reference points at an earlier assertion."""
    published = datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)
    yield {
        "incident_id": incident,
        "type": "IncidentOpened",
        "reported_at": "2025-06-01",
        "data": {
            "title": f"Incident {incident}",
            "summary": "A generated incident for the import benchmark.",
            "location": {"name": "Minneapolis, Minnesota", "lat": 44.9778, "lon": -93.265},
            "tags": ["benchmark", "import"],
        },
    }
    recorded = 0
    for index in range(1, count):
        kind = PATTERN[index % len(PATTERN)]
        moment = published + timedelta(minutes=index)
        reported_at = moment.date().isoformat() if index % 2 else moment.isoformat().replace("+00:00", "Z")
        if kind == "record" or recorded < 2:
            recorded += 1
            data: dict[str, Any] = {
                "assertion_id": f"a-{recorded:07d}",
                "kind": "official_statement",
                "occurred": "2026-01-24",
                "headline": f"County attorney says investigators will review all body-camera footage ({recorded})",
                "sources": [
                    {
                        "outlet": OUTLETS[recorded % len(OUTLETS)],
                        "url": f"https://news.example/minneapolis-shooting-investigation/{601000000 + recorded}",
                        "published_at": moment.date().isoformat(),
                        "quote": "We will review every second of footage before any decision is made.",
                    }
                ],
            }
            yield {"incident_id": incident, "type": "AssertionRecorded", "reported_at": reported_at, "data": data}
            continue
        target = f"a-{max(1, recorded - 1 - index % 5):07d}"  # an earlier one, never the latest
        if kind == "source":
            event = {
                "type": "SourceAttached",
                "data": {
                    "assertion_id": target,
                    "source": {"outlet": OUTLETS[index % len(OUTLETS)], "url": f"https://other.example/story/{index}"},
                },
            }
        elif kind == "rank":
            event = {
                "type": "AssertionRanked",
                "data": {"assertion_id": target, "rank": "preferred", "reason": f"corroborated ({index})"},
            }
        elif kind == "dispute":
            event = {
                "type": "AssertionDisputed",
                "data": {
                    "assertion_id": target,
                    "by_assertion_id": f"a-{recorded:07d}",
                    "note": f"the later report contradicts it ({index})",
                },
            }
        else:
            event = {
                "type": "AssertionRevised",
                "data": {
                    "assertion_id": target,
                    "changes": {"occurred": "2026-01-24~"},
                    "reason": f"a more precise date ({index})",
                },
            }
        yield {"incident_id": incident, "reported_at": reported_at, **event}


def write_file(path: Path, lines: int) -> dict[str, Any]:
    """The benchmark's file: runs of RUN lines per incident, round-robin; returns what it holds."""
    incidents = max(1, lines // PER_INCIDENT)
    sizes = [lines // incidents + (1 if number < lines % incidents else 0) for number in range(incidents)]
    streams = [incident_events(f"bench-{number:04d}", size) for number, size in enumerate(sizes)]
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while streams:
            for stream in list(streams):
                run = [json.dumps(event, separators=(",", ":")) for _, event in zip(range(RUN), stream)]
                if len(run) < RUN:
                    streams.remove(stream)
                if run:
                    out.write("\n".join(run) + "\n")
                    written += len(run)
    return {"lines": written, "incidents": incidents, "bytes": path.stat().st_size}


# -- the runs -------------------------------------------------------------------------------------


# A child's ru_maxrss counts the memory of the process it was forked from, up to its exec (Linux
# folds the old image's high-water mark in at exec, and vfork shares it): a child of this process
# (~70 MB of imports) would never look smaller than this process. So each measured process is
# started by this small launcher (`python -S`, ~10 MB), which reports its child's own rusage.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_process(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run `python ARGS`: (seconds, its peak RSS in bytes, its stdout); fails loudly."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rusage:
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, rusage.name, sys.executable, *args],
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} exited with {completed.returncode}:\n{completed.stdout}\n{completed.stderr[-4000:]}"
            )
        peak = int(rusage.read()) * 1024  # ru_maxrss is in KiB on Linux
    return seconds, peak, completed.stdout


def import_once(db: dict[str, Any], path: Path) -> tuple[float, int, str]:
    return run_process(["-m", "app.cli", "import", str(path), "--quiet"], {"TIMELINE_DATABASE_URL": db["url"]})


def floor_once(backend: str, db: dict[str, Any], path: Path) -> tuple[float, int, str]:
    target = db["path"] if backend == "sqlite" else db["dsn"]
    return run_process(["-m", "benchmarks.importing", "floor", backend, target, str(path)], {})


def floor_main(backend: str, target: str, path: str) -> None:
    """The raw-driver floor: the file into the events table, nothing checked (run as its own process)."""
    import uuid

    columns = (
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
        "reported_day",
    )
    versions: dict[str, int] = {}
    position = 0
    if backend == "sqlite":
        import sqlite3

        connection = sqlite3.connect(target, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        insert = f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

        def when(moment: datetime) -> str:  # how the store keeps times on SQLite: naive UTC text
            return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

        def write(rows: list[tuple]) -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(insert, rows)
            connection.execute("COMMIT")
    else:
        import psycopg

        connection = psycopg.connect(target, options="-c synchronous_commit=on -c timezone=UTC")
        copy_sql = f"COPY events ({', '.join(columns)}) FROM STDIN"

        def when(moment: datetime) -> datetime:
            return moment

        def write(rows: list[tuple]) -> None:
            with connection.transaction(), connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)

    end_of_day = timedelta(days=1) - timedelta(microseconds=1)
    rows: list[tuple] = []
    with open(path, "rb") as lines:
        for raw in lines:
            event = json.loads(raw)
            incident = event["incident_id"]
            position += 1
            versions[incident] = version = versions.get(incident, 0) + 1
            reported = event["reported_at"]
            if len(reported) == 10:  # a day: stored as its end, and the day
                day = datetime.fromisoformat(reported).replace(tzinfo=timezone.utc)
                moment, reported_day = day + end_of_day, day.date()
            else:
                moment, reported_day = datetime.fromisoformat(reported.replace("Z", "+00:00")), None
            rows.append(
                (
                    position,
                    incident,
                    version,
                    str(uuid.uuid4()),
                    event["type"],
                    2 if event["type"] == "AssertionRecorded" else 1,
                    json.dumps(event["data"]),
                    '{"actor": "import"}',
                    when(moment),
                    when(datetime.now(timezone.utc)),
                    reported_day,
                )
            )
            if len(rows) == RUN:
                write(rows)
                rows = []
    if rows:
        write(rows)
    connection.close()
    print(position)


def events_in(db: dict[str, Any], backend: str) -> int:
    from app.db import create_engine
    from app.store import EventStore

    engine = create_engine(db["url"])
    try:
        return EventStore(engine).head_position()
    finally:
        engine.dispose()


def run(options: argparse.Namespace) -> None:
    from benchmarks.append import BACKENDS

    lines = options.import_lines or (QUICK_LINES if options.quick else DEFAULT_LINES)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        path = Path(directory) / "events.ndjson"
        started = time.perf_counter()
        shape = write_file(path, lines)
        say(
            f"-- file: {shape['lines']:,} lines, {shape['incidents']:,} incidents, {shape['bytes'] / 1e6:,.0f} MB "
            f"(made in {time.perf_counter() - started:.0f} s)"
        )
        for backend_name in options.backends:
            if backend_name not in BACKENDS:
                raise SystemExit(f"unknown backend {backend_name!r}; choose from {', '.join(BACKENDS)}")
            with BACKENDS[backend_name]() as backend:
                say(f"-- {backend.describe()}")
                with backend.database(migrated=True) as floor_db:
                    backend.settle()
                    seconds, rss, _ = floor_once(backend_name, floor_db, path)
                    floor_rate = shape["lines"] / seconds
                    results.append((backend_name, "floor (raw driver)", shape["lines"], seconds, rss, floor_rate))
                    say(f"   floor: {seconds:.1f} s, {rate(floor_rate)} events/s, peak RSS {rss / 2**20:.0f} MB")
                with backend.database(migrated=True) as db:
                    for label in ("import", "import again (all present)"):
                        backend.settle()
                        seconds, rss, out = import_once(db, path)
                        stored = events_in(db, backend_name)
                        if stored != shape["lines"]:
                            raise AssertionError(
                                f"{backend_name} {label}: {stored} events stored, expected {shape['lines']}"
                            )
                        results.append((backend_name, label, shape["lines"], seconds, rss, floor_rate))
                        say(
                            f"   {label}: {seconds:.1f} s, {rate(shape['lines'] / seconds)} lines/s, "
                            f"peak RSS {rss / 2**20:.0f} MB; {out.strip()}"
                        )
    print()
    print(render(results, shape))


def render(results, shape) -> str:
    headers = ("backend", "run", "lines", "seconds", "events/s", "vs floor", "peak RSS")
    rows = []
    for backend_name, label, count, seconds, rss, floor_rate in results:
        per_second = count / seconds
        rows.append(
            (
                backend_name,
                label,
                f"{count:,}",
                f"{seconds:,.1f}",
                rate(per_second),
                ratio(per_second / floor_rate),
                f"{rss / 2**20:,.0f} MB",
            )
        )
    note = (
        f"file: {shape['lines']:,} lines over {shape['incidents']:,} incidents ({shape['bytes'] / 1e6:,.0f} MB), runs of "
        f"{RUN:,} lines per incident round-robin; every row a process of its own (`python -m app.cli import FILE "
        "--quiet`, Python start-up included), one run each; events/s: lines of the file per second of that process "
        "(for `import again`, lines checked and skipped); vs floor: over the raw driver's rate in the same run; "
        "peak RSS: that process's ru_maxrss (os.wait4)."
    )
    return format_table(headers, rows, align="llrrrrr") + "\n" + note


if __name__ == "__main__":
    if sys.argv[1:2] == ["floor"]:
        floor_main(*sys.argv[2:5])
    else:
        raise SystemExit(
            "usage: python -m benchmarks.importing floor BACKEND TARGET FILE (run by `python -m benchmarks import`)"
        )
