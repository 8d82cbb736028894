"""Bulk import of NDJSON events (the samples, or another store's export), through the write handlers.

An import reads its file twice:

1. **check.** Every line is parsed and put through the checks of the write handlers in
   app.commands — `check_opening` for a stream's IncidentOpened, `check_events` for the rest: the
   catalog, unstorable text, `reported_at`, references to assertions, assertion ids not reused,
   link targets. Every problem is kept with its line number (the first `max_problems` lines, and a
   count). Nothing is written.
2. **write.** Only if no line has a problem (and it is not a dry run): the new lines are read again
   and appended through `open_incident` and `append_events`, a batch per run of one incident's
   lines, which check each event once more as they append it.

Identity. An event is stored under its `event_id`, or, when the line has none, under an id derived
from its content: uuid5 of the incident, the type, the data as canonical JSON (sorted keys) and
`reported_at` when given (`content_id`). So a line always stands for the same event: one already
stored is skipped wherever it sits in the file (a re-ordered or extended file imports only what is
new), and one whose content changed gets another id, which the checks then refuse as a conflict
(its assertion id is already recorded; its incident is already open; its explicit id is stored
with other content) instead of appending a copy. An event recorded by other means (the API) under
another id is "already present" too when its content is the same.

Memory stays flat whatever the length of the file: lines are streamed (never a list of them), the
store is asked a chunk of lines at a time, and what is kept is small: per incident the assertion
ids recorded so far (check_events' `known_assertions`, so that no batch reads the whole incident
again; ~25 bytes an id, `AssertionIds`), ~24 bytes per line to recognise an event repeated in the
file (`_SeenEvents`), and one bit per line for the write pass (is it new?). A 1,000,000-line file
peaks at ~120 MB, ~70 MB of which is the interpreter and its libraries (benchmarks/README.md).

Old schema versions (an export of an older store) go to the handlers as written, with their
`schema_version`: the handler checks the data once upcast and stores it as written, as the store
keeps every old event (events.upcasting). Upcasting here instead would store something other than
the event as written, and put a second copy of every upcaster's logic on the way in.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import tempfile
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, MutableSet, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.commands import (
    EventCommand,
    IncidentExists,
    IncidentNotFound,
    append_actor_events,
    append_events,
    check_actor_events,
    check_events,
    check_opening,
    open_incident,
    registry_of,
)
from app.store import EventStore, NewEvent, StoredEvent, StoreError
from app.store.store import event_from_row
from app.store.tables import events as events_table
from events import catalog
from events.actors import ACTORS_STREAM, ActorExists, ActorRefused, Registry
from events.catalog import INCIDENT_ID_PATTERN, InvalidEvent, Problem
from events.published import Published, parse_published
from events.upcasting import upcast

# Namespace of the ids derived from an event's content (content_id); never change it: the ids of
# every event imported without an event_id depend on it.
CONTENT_NAMESPACE = uuid.UUID("0b7c2f3e-5a41-4d2a-9c36-8f1e7d4b6a15")
_NAMESPACE_BYTES = CONTENT_NAMESPACE.bytes
ACTOR = "import"  # metadata.actor of imported events, unless the line gives its own
MAX_PROBLEMS = 100  # lines with problems listed in full; the rest are counted
MAX_LINE_BYTES = 16 * 1024 * 1024  # one event; a longer line is refused without being held whole
CHUNK = 1000  # lines checked per look-up of stored event ids

_INCIDENT_ID = re.compile(INCIDENT_ID_PATTERN)
_MASK32 = (1 << 32) - 1


class ImportError_(ValueError):
    """The file cannot be imported (every problem is listed); nothing has been written."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__("\n".join(report.problem_lines()))


class ImportStopped(Exception):
    """Writing stopped part way (the store refused a batch: a concurrent writer, say). Earlier batches
    are stored; importing the file again skips them and adds the rest."""

    def __init__(self, line: int, report: ImportReport, cause: Exception):
        self.line, self.report, self.cause = line, report, cause
        super().__init__(
            f"stopped at line {line}: {cause}; {report.appended} events of earlier lines were written "
            "(importing the file again skips them and adds the rest)"
        )


@dataclass(frozen=True, slots=True)
class ImportLine:
    """One event of the file, as the file gives it (nothing checked yet but its envelope)."""

    number: int
    incident_id: str
    event: EventCommand | NewEvent  # a NewEvent from callers that build lines themselves (benchmarks)
    problems: tuple[str, ...] = ()  # of the envelope (event_id, metadata); the handlers check the rest


@dataclass(frozen=True, slots=True)
class LineProblem:
    number: int
    message: str
    conflict: bool = False  # the line's content differs from what is recorded under its identity

    def __str__(self) -> str:
        return f"line {self.number}: {'conflict: ' if self.conflict else ''}{self.message}"


@dataclass
class ImportReport:
    """What an import found and did. Counts are of lines holding an event (blank lines aside)."""

    dry_run: bool = False
    lines: int = 0
    new: int = 0  # new events: written by the import, unless something was refused or it is a dry run
    appended: int = 0  # events written
    skipped: int = 0  # already stored (under their id, or the same content under another)
    repeated: int = 0  # the same event as an earlier line of the file
    refused: int = 0  # lines with a problem
    conflicts: int = 0  # of those, lines that differ from what is recorded under their identity
    incidents: int = 0  # incidents receiving new events
    registry: bool = False  # new events go to the actors registry
    problems: list[LineProblem] = field(default_factory=list)  # the first `max_problems` lines

    def summary(self) -> str:
        """One line: what was (or would be) imported, skipped as already present, and refused."""
        present = f"{self.skipped + self.repeated} already present"
        if self.repeated:
            present += f" ({self.repeated} of them repeated in the file)"
        if not self.conflicts:
            conflicts = ""
        elif self.conflicts == self.refused:
            conflicts = " (a conflict)" if self.conflicts == 1 else " (all conflicts)"
        else:
            conflicts = f" ({self.conflicts} of them {_plural(self.conflicts, 'a conflict', 'conflicts')})"
        if self.refused:
            refused = f"{_plural(self.refused, 'line')}{conflicts}"
            new = f"{_plural(self.new, 'new event')} for {self._streams()}"
            if self.dry_run:
                return f"dry run: {refused} would be refused, so nothing would be imported ({new}, {present})"
            return f"imported 0 events: {refused} refused, so nothing was written ({new}, {present})"
        counts = f"({present}, 0 refused)"
        new = f"{_plural(self.new, 'event')} into {self._streams()}"
        if self.dry_run:
            return f"dry run: would import {new} {counts}; nothing was written"
        return f"imported {_plural(self.appended, 'event')} into {self._streams()} {counts}"

    def _streams(self) -> str:
        if not self.registry:
            return _plural(self.incidents, "incident")
        if not self.incidents:
            return "the actors registry"
        return f"{_plural(self.incidents, 'incident')} and the actors registry"

    def problem_lines(self) -> list[str]:
        shown = [str(problem) for problem in self.problems]
        if self.refused > len(self.problems):
            shown.append(
                f"... and {self.refused - len(self.problems)} more lines with problems "
                f"({self.refused} in all; the first {len(self.problems)} are shown)"
            )
        return shown


ImportSummary = ImportReport  # its former name


class Progress:
    """What an import reports as it goes; these do nothing (the CLI draws bars)."""

    def checked(self, nbytes: int) -> None:
        """Another `nbytes` of the file have been checked."""

    def writing(self, events: int) -> None:
        """The write starts: `events` new events to append."""

    def written(self, events: int) -> None:
        """Another `events` events have been appended."""


# -- reading ------------------------------------------------------------------------------------


class NdjsonLines:
    """The event lines of an NDJSON byte stream, which can be read as often as needed (each reading
    starts where the stream stood when this was made), one line at a time."""

    def __init__(self, stream: IO[bytes], on_bytes: Callable[[int], Any] | None = None):
        self.stream = stream
        self.start = stream.tell()
        self.on_bytes = on_bytes

    def __iter__(self) -> Iterator[ImportLine | LineProblem]:
        return (item for _, item in self.entries())

    def entries(self, on_bytes: Callable[[int], Any] | None = None) -> Iterator[tuple[int, ImportLine | LineProblem]]:
        """(where the line starts, what it holds) for each line that is not blank."""
        report = on_bytes or self.on_bytes
        stream = self.stream
        stream.seek(self.start)
        offset, unreported, number = self.start, 0, 0
        while raw := stream.readline(MAX_LINE_BYTES + 1):
            number += 1
            at = offset
            offset += len(raw)
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of it, a bounded piece at a time
                    raw = stream.readline(MAX_LINE_BYTES)
                    offset += len(raw)
                yield at, LineProblem(number, f"longer than {MAX_LINE_BYTES:,} bytes; one event per line")
            elif raw.strip():
                yield at, parse_line(number, raw)
            if report is not None and (unreported := unreported + offset - at) >= 1 << 20:
                report(unreported)
                unreported = 0
        if report is not None and unreported:
            report(unreported)

    def reread(self, at: int, number: int) -> ImportLine | LineProblem:
        """The line that starts at `at` again (while entries() is under way)."""
        here = self.stream.tell()
        try:
            self.stream.seek(at)
            return parse_line(number, self.stream.readline(MAX_LINE_BYTES + 1))
        finally:
            self.stream.seek(here)


class _Lines:
    """Lines a caller built (a list): the same interface as NdjsonLines."""

    def __init__(self, lines: Sequence[ImportLine]):
        self.lines = lines

    def entries(self, on_bytes: Callable[[int], Any] | None = None) -> Iterator[tuple[int, ImportLine | LineProblem]]:
        return enumerate(self.lines)

    def reread(self, at: int, number: int) -> ImportLine | LineProblem:
        return self.lines[at]


Source = NdjsonLines | _Lines


def read_ndjson(stream: IO[bytes], on_bytes: Callable[[int], Any] | None = None) -> NdjsonLines:
    """The lines of an NDJSON stream (seekable: an import reads it twice)."""
    return NdjsonLines(stream, on_bytes)


def parse_line(number: int, raw: bytes) -> ImportLine | LineProblem:
    """One line as an event to check, or what makes it no event at all."""
    try:
        record = _DECODER.decode(raw.decode("utf-8-sig"))
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, and ours
        return LineProblem(number, f"not valid JSON ({error})")
    if not isinstance(record, dict):
        return LineProblem(number, "expected a JSON object (one event per line)")
    incident_id = record.get("incident_id")
    if not isinstance(incident_id, str) or not (_INCIDENT_ID.fullmatch(incident_id) or incident_id == ACTORS_STREAM):
        return LineProblem(
            number,
            f"incident_id must match {INCIDENT_ID_PATTERN} (or be {ACTORS_STREAM!r}, the actors registry), "
            f"not {incident_id!r}",
        )
    problems = []
    event_id = record.get("event_id")
    if event_id is not None:
        try:
            event_id = str(uuid.UUID(event_id)) if isinstance(event_id, str) else _not_a_uuid(event_id)
        except ValueError:
            problems.append(f"event_id must be a UUID, not {event_id!r}")
            event_id = None
    metadata = record.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        problems.append("metadata must be a JSON object")
        metadata = {}
    # The type and data go to the handler as the file has them (whatever JSON they are): it is the
    # handler's checks that say what is wrong with them, in the API's words.
    command = EventCommand(
        record.get("type"),  # type: ignore[arg-type]
        record.get("data"),  # type: ignore[arg-type]
        record.get("reported_at"),
        metadata,
        event_id,
        record.get("schema_version"),
    )
    return ImportLine(number, incident_id, command, tuple(problems))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON can hold")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


# NDJSON is UTF-8; neither backend's JSON can hold NaN or infinity (1e999 parses as infinity)
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def _not_a_uuid(value: Any) -> str:
    raise ValueError(value)


def content_id(incident_id: str, command: EventCommand) -> str:
    """The id of an event that comes without one: uuid5 of what it says (incident, type, data as
    canonical JSON, reported_at if given), so the same line is the same event in any file."""
    parts: list[Any] = [incident_id, command.type, command.data]
    if command.reported_at is not None:
        parts.append(_published_text(command.reported_at))
    name = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    # uuid.uuid5(CONTENT_NAMESPACE, name), by hand: the same bytes (a test says so), a third of the time
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode("ascii")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    hex_ = digest.hex()
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


def _published_text(value: Any) -> Any:
    if isinstance(value, Published):
        return value.text()
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _command(event: EventCommand | NewEvent) -> EventCommand:
    if isinstance(event, EventCommand):
        return event
    published = Published(event.reported_at, event.reported_day) if event.reported_at is not None else None
    return EventCommand(event.type, event.data, published, event.metadata, event.event_id, event.schema_version)


def _identity(line: ImportLine) -> tuple[EventCommand, str, bool]:
    """The line's command with its event id filled in, the id, and whether the file gave it."""
    command = _command(line.event)
    if command.event_id is not None:
        return command, command.event_id, True
    event_id = content_id(line.incident_id, command)
    with_id = EventCommand(
        command.type, command.data, command.reported_at, command.metadata, event_id, command.schema_version
    )
    return with_id, event_id, False


# -- importing ----------------------------------------------------------------------------------


def import_file(
    engine: Engine,
    stream: IO[bytes],
    *,
    dry_run: bool = False,
    batch_size: int = 1000,
    max_problems: int = MAX_PROBLEMS,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the whole file, then (unless a line is refused, or `dry_run`) append its new events.

    A stream that cannot seek (a pipe) is first copied to a temporary file: the import reads twice.
    """
    if not stream.seekable():
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(stream, spool, 1 << 20)
            spool.seek(0)
            return import_file(
                engine, spool, dry_run=dry_run, batch_size=batch_size, max_problems=max_problems, progress=progress
            )
    return run_import(
        engine,
        NdjsonLines(stream),
        dry_run=dry_run,
        batch_size=batch_size,
        max_problems=max_problems,
        progress=progress,
    )


def import_batches(
    engine: Engine,
    lines: NdjsonLines | Sequence[ImportLine],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], Any] = lambda n: None,
) -> ImportReport:
    """Import `read_ndjson(stream)` or a list of lines; ImportError_ lists every problem (nothing is written)."""
    if not isinstance(lines, (NdjsonLines, Sequence)):
        raise TypeError("an import reads its lines twice (check, then write): pass read_ndjson(stream) or a list")

    class Written(Progress):
        def written(self, events: int) -> None:
            progress(events)

    source = lines if isinstance(lines, NdjsonLines) else _Lines(lines)
    report = run_import(engine, source, batch_size=batch_size, progress=Written())
    if report.refused:
        raise ImportError_(report)
    return report


def run_import(
    engine: Engine,
    source: Source,
    *,
    dry_run: bool = False,
    batch_size: int = 1000,
    max_problems: int = MAX_PROBLEMS,
    progress: Progress | None = None,
) -> ImportReport:
    progress = progress or Progress()
    store = EventStore(engine)
    report = ImportReport(dry_run=dry_run)
    check = _Check(store, source, report, max_problems)
    try:
        fresh = check.run(progress)
    finally:
        # Dropped here, not left to the garbage collector: pyparsing's packrat cache (enabled
        # by edtf) keeps the last ParseException with its traceback, and so the frames of the
        # check and everything they refer to, for as long as it likes.
        check.release()
    if report.refused or dry_run or not report.new:
        return report
    progress.writing(report.new)
    _write(store, source, fresh, report, batch_size, progress)
    return report


@dataclass(slots=True)
class _Incident:
    """What the check knows of one incident: read from the store when first met, then kept up to date."""

    in_store: bool
    open: bool  # in the store, or opened earlier in the file (or its opening was refused: no cascade)
    _assertions: AssertionIds | None = None
    receives: bool = False  # new events go to it


class _Incidents:
    """The incidents the check has met; `in` answers "is it open by now?" (check_events' known_incidents)."""

    def __init__(self, store: EventStore):
        self.store = store
        self.met: dict[str, _Incident] = {}

    def __getitem__(self, incident_id: str) -> _Incident:
        found = self.met.get(incident_id)
        if found is None:
            in_store = self.store.stream_version(incident_id) is not None
            found = self.met[incident_id] = _Incident(in_store, in_store)
        return found

    def __contains__(self, incident_id: object) -> bool:
        return isinstance(incident_id, str) and self[incident_id].open

    def assertions(self, incident_id: str) -> AssertionIds:
        """The assertion ids recorded in the incident so far (read once; check_events adds to it)."""
        incident = self[incident_id]
        if incident._assertions is None:
            incident._assertions = AssertionIds(
                self.store.data_values(incident_id, "AssertionRecorded", "assertion_id") if incident.in_store else ()
            )
        return incident._assertions


class AssertionIds(MutableSet[str]):
    """A set of assertion ids in ~25 bytes each, where a set of str takes ~110: their UTF-8 one after
    the other in a bytearray, and an open-addressing table (linear probing, at most 2/3 full) of
    entry numbers by 32 bits of their hash. Exact: a match of hashes is confirmed by comparing the
    text. Ids are only ever added (assertions are never removed)."""

    __slots__ = ("_text", "_ends", "_hashes", "_slots", "_mask")

    def __init__(self, ids: Iterable[str] = ()):
        self._text = bytearray()
        self._ends = array("I", [0])  # entry i is _text[_ends[i]:_ends[i + 1]]
        self._hashes = array("I")
        self._slots = array("I", bytes(4 * 8))  # entry number + 1; 0: empty
        self._mask = 7
        for each in ids:
            self.add(each)

    def __len__(self) -> int:
        return len(self._hashes)

    def __iter__(self) -> Iterator[str]:
        for entry in range(len(self._hashes)):
            yield self._text[self._ends[entry] : self._ends[entry + 1]].decode("utf-8", "surrogatepass")

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, str)
            and self._slots[self._find(value.encode("utf-8", "surrogatepass"), hash(value) & _MASK32)] != 0
        )

    def add(self, value: str) -> None:
        encoded, hashed = value.encode("utf-8", "surrogatepass"), hash(value) & _MASK32
        index = self._find(encoded, hashed)
        if self._slots[index]:
            return
        self._text += encoded
        self._ends.append(len(self._text))
        self._hashes.append(hashed)
        if 3 * len(self._hashes) > 2 * len(self._slots):
            self._slots = array("I", bytes(8 * len(self._slots)))
            self._mask = len(self._slots) - 1
            for entry, each in enumerate(self._hashes, start=1):
                index = each & self._mask
                while self._slots[index]:
                    index = (index + 1) & self._mask
                self._slots[index] = entry
        else:
            self._slots[index] = len(self._hashes)

    def discard(self, value: str) -> None:
        raise TypeError("assertion ids are only ever added")

    def _find(self, encoded: bytes, hashed: int) -> int:
        """The slot holding this id, or the empty slot where it would go."""
        index = hashed & self._mask
        while entry := self._slots[index]:
            if self._hashes[entry - 1] == hashed and self._text[self._ends[entry - 1] : self._ends[entry]] == encoded:
                return index
            index = (index + 1) & self._mask
        return index


class _SeenEvents:
    """The event ids met so far in the file, to tell a repeated event from a new one, in ~24 bytes each.

    A set of a million id strings would take ~110 MB. Here each entry keeps a 32-bit fingerprint of
    its id, its line number and where the line can be read again, and an open-addressing table
    (linear probing, at most 2/3 full) of entry numbers finds the entries with a given fingerprint.
    A fingerprint match is only a candidate: the caller reads that line again and compares the ids,
    so ids that share a fingerprint (~100 pairs in a million lines) cost a re-read, never a wrong
    answer.
    """

    def __init__(self) -> None:
        self._fingerprints = array("I")
        self._where = array("Q")
        self._numbers = array("I")
        self._slots = array("I", bytes(4 * 1024))  # entry number + 1; 0: empty
        self._mask = 1023

    def candidates(self, fingerprint: int) -> Iterator[tuple[int, int]]:
        """(where, line number) of the earlier entries with this fingerprint."""
        index = fingerprint & self._mask
        while entry := self._slots[index]:
            if self._fingerprints[entry - 1] == fingerprint:
                yield self._where[entry - 1], self._numbers[entry - 1]
            index = (index + 1) & self._mask

    def add(self, fingerprint: int, where: int, number: int) -> None:
        self._fingerprints.append(fingerprint)
        self._where.append(where)
        self._numbers.append(number)
        if 3 * len(self._fingerprints) > 2 * len(self._slots):
            self._slots = array("I", bytes(8 * len(self._slots)))
            self._mask = len(self._slots) - 1
            for entry, each in enumerate(self._fingerprints, start=1):
                self._place(entry, each)
        else:
            self._place(len(self._fingerprints), fingerprint)

    def _place(self, entry: int, fingerprint: int) -> None:
        index = fingerprint & self._mask
        while self._slots[index]:
            index = (index + 1) & self._mask
        self._slots[index] = entry


class _Check:
    """The first pass: every line through the handlers' checks; returns one bit per entry, set for new events."""

    def __init__(self, store: EventStore, source: Source, report: ImportReport, max_problems: int):
        self.store, self.source, self.report, self.max_problems = store, source, report, max_problems
        self.incidents = _Incidents(store)
        self.registry: Registry | None = None  # the actors registry, read when first needed, then with each line
        self.seen = _SeenEvents()
        self.fresh = bytearray()

    def run(self, progress: Progress) -> bytearray:
        entries = enumerate(self.source.entries(on_bytes=progress.checked))
        while chunk := list(islice(entries, CHUNK)):
            identified = [
                (ordinal, where, item, *_identity(item))
                if isinstance(item, ImportLine) and not item.problems
                else (ordinal, where, item, None, None, False)
                for ordinal, (where, item) in chunk
            ]
            stored = self.store.existing_event_ids([event_id for *_, event_id, _ in identified if event_id])
            explicit = [event_id for *_, event_id, given in identified if given and event_id in stored]
            stored_events = _stored_events(self.store, explicit) if explicit else {}
            for ordinal, where, item, command, event_id, given in identified:
                self._line(ordinal, where, item, command, event_id, given, stored, stored_events)
        receiving = {stream for stream, incident in self.incidents.met.items() if incident.receives}
        self.report.incidents = len(receiving - {ACTORS_STREAM})
        self.report.registry = ACTORS_STREAM in receiving
        return self.fresh

    def _line(self, ordinal, where, item, command, event_id, given, stored, stored_events) -> None:
        report = self.report
        if isinstance(item, LineProblem):
            return self._refuse(item)
        report.lines += 1
        if event_id is None:  # the envelope is wrong: still say what the handlers find
            found = self._handlers(item, _command(item.event))
            return self._refuse(
                LineProblem(item.number, "; ".join([*item.problems, *([found.message] if found else [])]))
            )
        fingerprint = hash(event_id) & _MASK32
        for earlier_at, earlier_number in self.seen.candidates(fingerprint):
            earlier = self.source.reread(earlier_at, earlier_number)
            if isinstance(earlier, ImportLine) and not earlier.problems and _identity(earlier)[1] == event_id:
                if content_id(earlier.incident_id, _command(earlier.event)) == content_id(item.incident_id, command):
                    report.repeated += 1
                    return None
                return self._refuse(
                    LineProblem(
                        item.number,
                        f"event_id {event_id} is also line {earlier.number}'s, which says something else",
                        True,
                    )
                )
        self.seen.add(fingerprint, where, item.number)
        if event_id in stored:
            if not given or _same(item.incident_id, command, stored_events[event_id]):
                report.skipped += 1
                return None
            return self._refuse(
                LineProblem(
                    item.number,
                    f"event {event_id} is already stored, with other content "
                    f"({_difference(item.incident_id, command, stored_events[event_id])})",
                    True,
                )
            )
        problem = self._handlers(item, command)
        if problem is None:
            report.new += 1
            self.incidents[item.incident_id].receives = True
            if ordinal >> 3 >= len(self.fresh):
                self.fresh.extend(bytes(max(1024, len(self.fresh))))
            self.fresh[ordinal >> 3] |= 1 << (ordinal & 7)
        elif problem.conflict and self._stored_twin(item.incident_id, command):
            report.skipped += 1  # recorded by other means (the API) under another id, with this content
        else:
            self._refuse(problem)
        return None

    def _handlers(self, line: ImportLine, command: EventCommand) -> LineProblem | None:
        """The write handlers' own checks of this line, against the store and the lines before it."""
        if line.incident_id == ACTORS_STREAM:
            return self._registry_line(line, command)
        incidents, incident_id = self.incidents, line.incident_id
        incident = incidents[incident_id]
        conflict = False
        try:
            if command.type == "IncidentOpened":
                conflict = incident.open
                try:
                    check_opening(self.store, incident_id, command, actor=ACTOR, known_incidents=incidents)
                finally:
                    incident.open = True
            else:
                known = incidents.assertions(incident_id)
                conflict = command.type == "AssertionRecorded" and _assertion_id(command) in known
                try:
                    check_events(
                        self.store,
                        incident_id,
                        [command],
                        actor=ACTOR,
                        known_assertions=known,
                        known_incidents=incidents,
                    )
                except InvalidEvent:
                    if command.type == "AssertionRecorded" and isinstance(_assertion_id(command), str):
                        known.add(_assertion_id(command))  # its references are not problems of their own
                    raise
        except IncidentExists:
            return LineProblem(
                line.number,
                f"incident {incident_id!r} is already open, and this IncidentOpened "
                "differs from the one recorded (to change an incident: IncidentRevised)",
                True,
            )
        except IncidentNotFound:
            incident.open = True  # one problem for the incident, not one per line
            return LineProblem(
                line.number, f"there is no incident {incident_id!r}: its first event must be IncidentOpened"
            )
        except InvalidEvent as error:
            return LineProblem(line.number, "; ".join(_described(problem) for problem in error.problems), conflict)
        return None

    def _registry_line(self, line: ImportLine, command: EventCommand) -> LineProblem | None:
        """The registry's checks of a line of its stream, against the registry and the lines before it."""
        if self.registry is None:
            self.registry = registry_of(self.store)
        try:
            check_actor_events(self.registry, [command], actor=ACTOR)
        except ActorRefused as error:
            return LineProblem(line.number, str(error), isinstance(error, ActorExists))
        except InvalidEvent as error:
            return LineProblem(line.number, "; ".join(_described(problem) for problem in error.problems))
        return None

    def _stored_twin(self, incident_id: str, command: EventCommand) -> bool:
        """Whether the store holds this event's content under another id (recorded through the API)."""
        if not self.incidents[incident_id].in_store:
            return False
        query = (
            sa.select(events_table)
            .where(events_table.c.incident_id == incident_id, events_table.c.type == command.type)
            .order_by(events_table.c.version)
        )
        if command.type == "AssertionRecorded":
            query = query.where(events_table.c.data["assertion_id"].as_string() == _assertion_id(command))
        elif command.type == "ActorRegistered" and isinstance(command.data, dict):
            query = query.where(events_table.c.data["actor_id"].as_string() == command.data.get("actor_id"))
        elif command.type != "IncidentOpened":
            return False
        with self.store.engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        return row is not None and _same(incident_id, command, event_from_row(row))

    def release(self) -> None:
        self.incidents = self.seen = self.registry = None  # type: ignore[assignment]

    def _refuse(self, problem: LineProblem) -> None:
        self.report.refused += 1
        self.report.conflicts += problem.conflict
        if len(self.report.problems) < self.max_problems:
            self.report.problems.append(problem)


def _write(
    store: EventStore, source: Source, fresh: bytearray, report: ImportReport, batch_size: int, progress: Progress
) -> None:
    """The second pass: the lines the check found new, in file order, through the write handlers."""
    known: dict[str, AssertionIds] = {}  # per incident, the assertion ids recorded so far (append_events keeps it)
    batch: list[tuple[ImportLine, EventCommand]] = []

    def flush() -> None:
        first_line, first = batch[0]
        incident_id = first_line.incident_id
        rest = batch
        try:
            if incident_id == ACTORS_STREAM:
                append_actor_events(store, [command for _, command in batch], actor=ACTOR)
                report.appended += len(batch)
                progress.written(len(batch))
                batch.clear()
                return
            if first.type == "IncidentOpened":
                open_incident(
                    store,
                    incident_id,
                    first.data,
                    actor=ACTOR,
                    reported_at=first.reported_at,
                    metadata=first.metadata,
                    event_id=first.event_id,
                    schema_version=first.schema_version,
                )
                known[incident_id] = AssertionIds()
                report.appended += 1
                progress.written(1)
                rest = batch[1:]
            if rest:
                if incident_id not in known:
                    known[incident_id] = AssertionIds(
                        store.data_values(incident_id, "AssertionRecorded", "assertion_id")
                    )
                append_events(
                    store,
                    incident_id,
                    [command for _, command in rest],
                    actor=ACTOR,
                    known_assertions=known[incident_id],
                )
                report.appended += len(rest)
                progress.written(len(rest))
        except (InvalidEvent, IncidentExists, IncidentNotFound, StoreError, ActorRefused) as error:
            raise ImportStopped(rest[0][0].number if rest else first_line.number, report, error) from error
        batch.clear()

    try:
        for ordinal, (_, item) in enumerate(source.entries()):
            if ordinal >> 3 >= len(fresh) or not fresh[ordinal >> 3] & (1 << (ordinal & 7)):
                continue
            assert isinstance(item, ImportLine)
            command = _identity(item)[0]
            if batch and (
                item.incident_id != batch[0][0].incident_id
                or len(batch) >= batch_size
                or command.type == "IncidentOpened"
            ):
                flush()
            batch.append((item, command))
        if batch:
            flush()
    finally:
        known.clear()  # see run_import: these frames may outlive the import


# -- comparing with what is stored ------------------------------------------------------------------


def _stored_events(store: EventStore, event_ids: list[str]) -> dict[str, StoredEvent]:
    """The stored events with these ids (a read of the events table, as the store maps its rows)."""
    found: dict[str, StoredEvent] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            for row in conn.execute(sa.select(events_table).where(events_table.c.event_id.in_(chunk))):
                found[row.event_id] = event_from_row(row)
    return found


def _same(incident_id: str, command: EventCommand, stored: StoredEvent) -> bool:
    return not _difference(incident_id, command, stored)


def _difference(incident_id: str, command: EventCommand, stored: StoredEvent) -> str:
    """What differs between a line and a stored event ('' if nothing): both brought to the current
    schema and normalised by the catalog, times compared as instants (and days)."""
    if stored.incident_id != incident_id:
        return f"it is in incident {stored.incident_id!r}"
    if stored.type != command.type:
        return f"it is {stored.type}"
    if _normalised(command.type, command.schema_version, command.data) != _normalised(
        stored.type, stored.schema_version, stored.data
    ):
        return "its data differs"
    if command.reported_at is not None:
        try:
            published = (
                command.reported_at
                if isinstance(command.reported_at, Published)
                else parse_published(command.reported_at)
            )
        except ValueError:
            return "its reported_at differs"
        if (published.moment, published.day) != (stored.reported_at, stored.reported_day):
            return f"it was reported at {stored.published.text()}"
    return ""


def _normalised(type_name: str, schema_version: int | None, data: Any) -> Any:
    try:
        version = schema_version or catalog.current_version(type_name)
        return catalog.validate(type_name, upcast(type_name, version, dict(data))[1])
    except (AttributeError, KeyError, TypeError, ValueError):  # InvalidEvent is a ValueError
        return data


def _assertion_id(command: EventCommand) -> Any:
    data = command.data
    if not isinstance(data, dict):
        return None
    if command.schema_version not in (None, catalog.current_version("AssertionRecorded")):
        try:
            data = upcast("AssertionRecorded", command.schema_version, dict(data))[1]
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
    return data.get("assertion_id")


def _described(problem: Problem) -> str:
    """A handler's problem as a line's: `data.kind: unknown kind ...` (no `events[0].` prefix)."""
    location = problem.location[2:] if problem.location[:1] == ("events",) else problem.location
    where = Problem(location, problem.message).field
    return problem.message if re.match(rf"{re.escape(where)}\b", problem.message) else f"{where}: {problem.message}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    if many is not None:
        return one if count == 1 else many
    return f"{count} {one}" if count == 1 else f"{count} {one}s"
