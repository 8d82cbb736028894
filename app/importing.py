"""Bulk import of NDJSON events (the samples, or another store's export), checked before anything is written."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy.engine import Engine

from app.store import EventStore, NewEvent
from events import catalog
from events.admissible import text_problems
from events.published import parse_published
from events.catalog import INCIDENT_ID_PATTERN, InvalidEvent
from events.upcasting import upcast

_INCIDENT_ID = re.compile(INCIDENT_ID_PATTERN)
_LINE_NAMESPACE = uuid.UUID("6f1c9a52-3b0e-4d8e-9f7a-2c4b1e5d8a90")


class ImportError_(ValueError):
    """A line of the import file that cannot be imported; nothing has been written."""


@dataclass(frozen=True, slots=True)
class ImportLine:
    number: int
    incident_id: str
    event: NewEvent


@dataclass(frozen=True, slots=True)
class ImportSummary:
    appended: int
    skipped: int
    incidents: int


def read_ndjson(stream: IO[bytes], on_bytes: Callable[[int], Any] = lambda n: None) -> Iterator[ImportLine]:
    for number, raw in enumerate(stream, start=1):
        on_bytes(len(raw))
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as error:
            raise ImportError_(f"line {number}: not valid JSON ({error})") from None
        yield _to_line(number, record, raw)


def _to_line(number: int, record: Any, raw: bytes) -> ImportLine:
    if not isinstance(record, dict):
        raise ImportError_(f"line {number}: expected a JSON object")
    incident_id = record.get("incident_id")
    if not isinstance(incident_id, str) or not _INCIDENT_ID.match(incident_id):
        raise ImportError_(f"line {number}: incident_id must match {INCIDENT_ID_PATTERN}")
    type_name = record.get("type")
    schema_version = record.get("schema_version") or (
        catalog.current_version(type_name) if type_name in catalog.CATALOG else 1
    )
    data = record.get("data")
    try:
        if not isinstance(data, dict):
            raise InvalidEvent([catalog.Problem(("data",), "must be a JSON object")])
        # Data of an older schema version is stored as written, so it is held to the same rule.
        unstorable = [catalog.Problem(("data", *where), message) for where, message in text_problems(data)]
        if unstorable:
            raise InvalidEvent(unstorable)
        # Old schema versions are stored as written; they must be valid once upcast.
        _, current = upcast(type_name, schema_version, data) if type_name in catalog.CATALOG else (0, data)
        validated = catalog.validate(type_name, current)
    except InvalidEvent as error:
        raise ImportError_(f"line {number}: {error}") from None
    stored_data = validated if schema_version == catalog.current_version(type_name) else data
    event_id = record.get("event_id") or str(uuid.uuid5(_LINE_NAMESPACE, f"{number}:{raw.decode(errors='replace')}"))
    try:
        event_id = str(uuid.UUID(str(event_id)))
        published = parse_published(record["reported_at"]) if record.get("reported_at") is not None else None
    except ValueError as error:
        raise ImportError_(f"line {number}: {error}") from None
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    for where, message in text_problems(metadata):
        raise ImportError_(f"line {number}: metadata{''.join(f'.{part}' for part in where)} {message}")
    return ImportLine(
        number, incident_id,
        NewEvent(type_name, stored_data, schema_version, published and published.moment,
                 {"actor": "import", **metadata}, event_id, published and published.day),
    )


def import_batches(
    engine: Engine,
    lines: Iterable[ImportLine],
    *,
    batch_size: int = 1000,
    progress: Callable[[int], Any] = lambda n: None,
) -> ImportSummary:
    """Check every line first, then append runs of one incident's events in batches.

    Events whose event_id is already stored are skipped, so importing a file twice is harmless.
    """
    checked = list(lines)
    store = EventStore(engine)
    known_streams = {incident_id for incident_id, _, _ in store.list_streams()}
    opened = set(known_streams)
    for line in checked:
        if line.incident_id not in opened:
            if line.event.type != "IncidentOpened":
                raise ImportError_(f"line {line.number}: incident {line.incident_id!r} must start with IncidentOpened")
            opened.add(line.incident_id)

    existing = store.existing_event_ids([line.event.event_id for line in checked])
    fresh = [line for line in checked if line.event.event_id not in existing]
    appended = 0
    for batch in _runs(fresh, batch_size):
        store.append(batch[0].incident_id, [line.event for line in batch])
        appended += len(batch)
        progress(len(batch))
    return ImportSummary(appended, len(checked) - len(fresh), len({line.incident_id for line in checked}))


def _runs(lines: list[ImportLine], size: int) -> Iterator[list[ImportLine]]:
    """Consecutive lines of one incident, at most `size` at a time, in file order."""
    batch: list[ImportLine] = []
    for line in lines:
        if batch and (line.incident_id != batch[0].incident_id or len(batch) == size):
            yield batch
            batch = []
        batch.append(line)
    if batch:
        yield batch
