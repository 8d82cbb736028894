"""What the store accepts: one definition, checked at every way in (API, import, accepted proposals).

An append-only store cannot take a bad event back, so a value is admitted only if both backends
can store it, read it back and render it for ever:

- times: aware, and inside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z once turned to
  UTC (Python's datetime, SQLite's text and RFC 3339's four-digit year all end there; PostgreSQL's
  timestamptz reaches further, but what it stored there could not be read back);
- integers: inside the column they are compared with (PostgreSQL's integer for versions, bigint
  for positions and ids; SQLite's integers are 64-bit);
- text: no U+0000 (PostgreSQL's text cannot hold it and its JSON operators refuse `\\u0000`) and no
  lone surrogate (not Unicode: it cannot be encoded as UTF-8 by either driver or by a response).

Reads are the other half: a value an older version let in is read as stored and rendered as far
as it can be (`clamped_time`, `ClampedTime`), never a failed page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone

import orjson

EARLIEST_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)
LATEST_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
TIME_RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z (in UTC)"

MAX_INT = 2**31 - 1  # versions, counts: PostgreSQL `integer`
# Numbers inside events: I-JSON's (RFC 7493), which every JSON reader takes the same way and the
# log's canonical encoding (RFC 8785, app.proofs.leaves) writes one way only.
MAX_JSON_INTEGER = 2**53 - 1
MAX_BIGINT = 2**63 - 1  # positions, attempt ids: `bigint`, and SQLite's integers

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def time_problem(moment: datetime) -> str | None:
    """Why `moment` cannot be stored, or None when it can."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return "needs a time zone, e.g. 2026-02-02T14:30:00Z or 2026-02-02T09:30:00-05:00"
    try:
        moment.astimezone(timezone.utc)
    except OverflowError:
        return f"lies outside the times this service can keep: {TIME_RANGE}"
    return None


def text_problem(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return f"contains a NUL character (U+0000) at offset {found.start()}; remove it"
    return (
        f"contains a lone surrogate (U+{ord(found.group()):04X}) at offset {found.start()}, which is not Unicode text"
    )


def text_problems(value: object, location: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string (keys included) in a JSON-like value that cannot be stored, with where it is."""
    if _all_storable(value):
        return iter(())
    return _text_problems(value, location)


def _all_storable(value: object) -> bool:
    """A quick "no problem here" for the usual value, in one call into C rather than a walk of every
    string (a third of an import's checking): orjson refuses a lone surrogate and writes U+0000 as
    the escape looked for. When it finds one or cannot tell (a key that is not text, a type it does
    not know, a string holding that escape as text), the walk decides."""
    try:
        written = orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return b"\\u0000" not in written


def _text_problems(value: object, location: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield location, problem
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and (problem := text_problem(key)):
                yield location, f"a key {problem}"
            yield from _text_problems(item, (*location, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _text_problems(item, (*location, index))


def number_problems(value: object, location: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every number in a JSON-like value that is not I-JSON: an integer past ±(2**53 - 1), which
    JavaScript readers (the widget's) would round, or a float that is not finite."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -MAX_JSON_INTEGER <= value <= MAX_JSON_INTEGER:
        yield location, f"is {value}, past ±{MAX_JSON_INTEGER} (2**53 - 1): send it as a string"
    elif isinstance(value, float) and not math.isfinite(value):
        yield location, "is not a finite number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from number_problems(item, (*location, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from number_problems(item, (*location, index))


def storable_time(moment: datetime) -> datetime:
    """`moment` itself when storable; raises ValueError (a pydantic validator's error) otherwise."""
    problem = time_problem(moment)
    if problem:
        raise ValueError(problem)
    return moment


def storable_text(text: str) -> str:
    problem = text_problem(text)
    if problem:
        raise ValueError(problem)
    return text


class ClampedTime(datetime):
    """A stored time the service cannot represent, shown as the nearest time it can.

    `stored` keeps what the database (or the event's data) holds, so a reader can be told.
    """

    stored: str

    def __new__(cls, bound: datetime, stored: str) -> ClampedTime:
        value = super().__new__(
            cls,
            bound.year,
            bound.month,
            bound.day,
            bound.hour,
            bound.minute,
            bound.second,
            bound.microsecond,
            tzinfo=timezone.utc,
        )
        value.stored = stored
        return value

    def __reduce__(self) -> tuple[type[ClampedTime], tuple[datetime, str]]:
        return (ClampedTime, (datetime(*self.timetuple()[:6], self.microsecond, tzinfo=timezone.utc), self.stored))


def clamped_time(moment: datetime, stored: str | None = None) -> datetime:
    """`moment` in UTC; a time past either end becomes a ClampedTime at that end."""
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        offset = moment.utcoffset() or timedelta(0)
        bound = EARLIEST_TIME if offset > timedelta(0) else LATEST_TIME
        return ClampedTime(bound, stored or moment.isoformat())


def clamped_from_text(stored: str) -> ClampedTime:
    """A stored time's text that no datetime can hold ("0001-12-31 19:00:00+00 BC", "10000-01-01 ...",
    "0000-12-31 19:00:00"): before year 1 or after 9999, at that end."""
    text = stored.strip()
    year = re.match(r"-?\d+", text)
    early = text.endswith("BC") or text.startswith("-") or (year is not None and int(year.group()) < 1)
    return ClampedTime(EARLIEST_TIME if early else LATEST_TIME, stored)
