"""When an assertion happened: an EDTF string read into tight calendar bounds and a display text.

`parse_occurred("2026-01-24~")` gives `earliest == latest == 2026-01-24`, `approximate=True` and the
display `"c. Jan 24, 2026"`. The `edtf` package only validates and parses; the bounds are computed
here from its parse tree, because its fuzzy bounds are far too wide and its strict ones raise on
valid strings.

Decisions the caller relies on:

- Bounds are inclusive and tight: every date the string admits lies in `[earliest, latest]`, and both
  ends are themselves admitted. Qualifiers (`~`, `?`, `%`) never widen them; the flags carry them.
- `precision` is one of `PRECISIONS`. A date with unspecified digits gets the smallest calendar unit
  that holds all its dates (`202X` decade, `19XX` century, `2026-01-2X` month); spans wider than a
  century (`1XXX`, `XXXX-01-24`) are rejected as too vague. A date and time has precision `"time"`,
  its bounds are the calendar day as written (not converted to UTC).
- Seasons and the EDTF 2019 sub-year groupings (`21`-`41`) have precision `"season"`; northern winter
  `2025-24` runs from 2025-12-01 to the end of February 2026.
- An open (`2026-01-26/..`) or unknown (`2026-01-26/`) end admits any date on that side, so its bound
  is `datetime.date.min` or `datetime.date.max` (0001-01-01, 9999-12-31): overlap filters then treat
  "since Jan 26" as reaching every later window. Displays say "since", "until" or "?"; a widget
  drawing the range clamps those bounds to its axis. Both ends missing is rejected.
- An interval that ends before it starts is rejected. Sets (`[a, b]`, `{a, b}`) span their members.
- Results are cached (the `edtf` parser is slow: about 15 ms for a plain date); refusals are not.
- Years outside 1-9999, long years (`Y...`), significant digits (`S2`) and spaces (other than after a
  comma in a set) are rejected. A few malformed strings make the `edtf` package print a line to
  stdout before it fails; they are still reported as `InvalidOccurred`.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import product
from typing import TypedDict

import edtf

PRECISIONS = ("day", "month", "season", "year", "decade", "century", "interval", "set", "time")
MAX_LENGTH = 200

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_ABBREVIATIONS = tuple(name[:3] for name in MONTHS)

# EDTF 2019 sub-year groupings: code -> (display template, first month, number of months).
_GROUPINGS = {
    21: ("Spring {}", 3, 3),
    22: ("Summer {}", 6, 3),
    23: ("Autumn {}", 9, 3),
    24: ("Winter {}", 12, 3),
    25: ("Spring {}", 3, 3),
    26: ("Summer {}", 6, 3),
    27: ("Autumn {}", 9, 3),
    28: ("Winter {}", 12, 3),
    29: ("Spring {} (southern hemisphere)", 9, 3),
    30: ("Summer {} (southern hemisphere)", 12, 3),
    31: ("Autumn {} (southern hemisphere)", 3, 3),
    32: ("Winter {} (southern hemisphere)", 6, 3),
    33: ("Q1 {}", 1, 3),
    34: ("Q2 {}", 4, 3),
    35: ("Q3 {}", 7, 3),
    36: ("Q4 {}", 10, 3),
    37: ("early {}", 1, 4),
    38: ("mid {}", 5, 4),
    39: ("late {}", 9, 4),
    40: ("first half of {}", 1, 6),
    41: ("second half of {}", 7, 6),
}

# Month spans of one year that read better as a part of it: (first month, last month) -> word.
_PARTS_OF_YEAR = {(1, 3): "early", (1, 4): "early", (5, 8): "mid", (9, 12): "late", (10, 12): "late"}


class OccurredJson(TypedDict):
    edtf: str
    earliest: str
    latest: str
    precision: str
    display: str
    approximate: bool
    uncertain: bool


class InvalidOccurred(ValueError):
    """The text is not an EDTF date this service can place on a timeline; the message says why."""


@dataclass(frozen=True, slots=True)
class Occurred:
    edtf: str
    earliest: datetime.date
    latest: datetime.date
    precision: str
    approximate: bool
    uncertain: bool
    display: str

    def as_dict(self) -> OccurredJson:
        return {
            "edtf": self.edtf,
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "precision": self.precision,
            "display": self.display,
            "approximate": self.approximate,
            "uncertain": self.uncertain,
        }


def parse_occurred(text: str) -> Occurred:
    """Read an EDTF string; raises `InvalidOccurred` (and nothing else) for anything unusable."""
    if not isinstance(text, str):
        raise InvalidOccurred(f"an EDTF date must be a string, not {type(text).__name__}")
    return _read_occurred(text.strip())


@lru_cache(maxsize=4096)  # the edtf parser takes 10-100 ms a string; news repeats its dates
def _read_occurred(text: str) -> Occurred:
    _check_shape(text)
    reading = _Reader(text).read(_parse(text))
    return Occurred(
        edtf=text,
        earliest=reading.earliest,
        latest=reading.latest,
        precision=reading.precision,
        approximate=reading.approximate,
        uncertain=reading.uncertain,
        display=reading.display,
    )


# -- parsing ----------------------------------------------------------------------------------


def _check_shape(text: str) -> None:
    if not text:
        raise InvalidOccurred("an empty string is not an EDTF date")
    if len(text) > MAX_LENGTH:
        raise InvalidOccurred(f"{_shown(text)} is not an EDTF date: longer than {MAX_LENGTH} characters")
    if re.search(r"\s", re.sub(r",\s+", ",", text)):
        reason = "EDTF has no spaces (except after a comma in a set)"
        raise InvalidOccurred(f"{_shown(text)} is not an EDTF date: {reason}")
    if re.search(r"[0-9]S[0-9]", text):
        raise InvalidOccurred(
            f"{_shown(text)} cannot be placed on a timeline: significant digits ('S') are not supported;"
            " write X digits instead, e.g. 19XX"
        )


def _parse(text: str) -> edtf.EDTFObject:
    try:
        node: edtf.EDTFObject | None = edtf.parse_edtf(text)  # the package leaves its return type out
    except Exception:  # EDTFParseException, and the package's own bugs (AttributeError, TypeError)
        raise InvalidOccurred(f"{_shown(text)} is not an EDTF date: {_diagnose(text)}") from None
    if node is None:
        raise InvalidOccurred(f"{_shown(text)} is not an EDTF date: {_diagnose(text)}")
    return node


def _diagnose(text: str) -> str:
    """The most likely mistake in a string the parser refused, in words."""
    if re.search(r"T[0-9]{2}:[0-9]{2}(?!:)", text):
        return "a time needs seconds, e.g. 2026-01-24T14:30:00Z"
    for found in re.finditer(r"(?<![0-9X])([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?(?![0-9X])", text):
        year, month, day = int(found[1]), int(found[2]), found[3]
        if day is None and 21 <= month <= 41:
            continue
        if not 1 <= month <= 12:
            return f"month {found[2]} does not exist"
        if day is not None and not 1 <= int(day) <= calendar.monthrange(max(year, 1), month)[1]:
            return f"{MONTHS[month - 1]} {year} has no day {day}"
    return "expected a form such as 2026-01-24, 2026-01, 2026, 2026-01-24~, 2026-01-2X or 2026-01-26/2026-01-30"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


# -- reading the parse tree -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reading:
    earliest: datetime.date
    latest: datetime.date
    precision: str
    display: str
    approximate: bool = False
    uncertain: bool = False

    @property
    def qualified(self) -> bool:
        return self.approximate or self.uncertain


class _Reader:
    """Turns one parse tree into a `_Reading`; knows the original text only to word its errors."""

    def __init__(self, text: str):
        self.text = text

    def invalid(self, reason: str) -> InvalidOccurred:
        return InvalidOccurred(f"{_shown(self.text)} is not an EDTF date: {reason}")

    def unsupported(self, reason: str) -> InvalidOccurred:
        return InvalidOccurred(f"{_shown(self.text)} cannot be placed on a timeline: {reason}")

    def read(self, node: edtf.EDTFObject) -> _Reading:
        # Subclasses before their bases: Level1Interval and the consecutives are Intervals,
        # Season and the unspecified and partly qualified dates are Dates.
        if isinstance(node, (edtf.LongYear, edtf.ExponentialYear)):
            raise self.unsupported("long years ('Y...') lie outside the years 1-9999")
        if isinstance(node, edtf.DateAndTime):
            return self.date_and_time(node)
        if isinstance(node, (edtf.EarlierConsecutives, edtf.LaterConsecutives)):
            return self.interval(node, open_words=("on or before", "on or after"))
        if isinstance(node, edtf.Interval):
            return self.interval(node, open_words=("until", "since"))
        if isinstance(node, edtf.OneOfASet):
            return self.set(node, "or")
        if isinstance(node, edtf.MultipleDates):
            return self.set(node, "and")
        if isinstance(node, edtf.UncertainOrApproximate):
            return _qualify(self.read(node.date), node)
        if isinstance(node, edtf.Season):
            return self.season(node)
        if isinstance(node, edtf.Unspecified):
            return _qualify(self.unspecified(node), node)
        if isinstance(node, edtf.Date):
            return _qualify(self.date(node), node)
        raise self.unsupported(f"the EDTF form {type(node).__name__} is not supported")

    def year(self, digits: str) -> int:
        if digits.startswith("-") or int(digits) == 0:
            raise self.unsupported("years before 1 AD are not supported")
        return int(digits)

    def date(self, node: edtf.Date) -> _Reading:
        year = self.year(node.year)
        if node.month is None:
            return _unit_reading("year", datetime.date(year, 1, 1))
        month = int(node.month)
        if node.day is None:
            return _unit_reading("month", datetime.date(year, month, 1))
        try:
            day = datetime.date(year, month, int(node.day))
        except ValueError:
            raise self.invalid(f"{MONTHS[month - 1]} {year} has no day {node.day}") from None
        return _unit_reading("day", day)

    def date_and_time(self, node: edtf.DateAndTime) -> _Reading:
        day = self.date(node.date)
        if day.precision != "day":
            raise self.invalid("a time needs a full date, e.g. 2026-01-24T14:30:00Z")
        return replace(day, precision="time", display=f"{day.display}, {_time_text(node.time)}")

    def season(self, node: edtf.Season) -> _Reading:
        template, first_month, months = _GROUPINGS[int(node.season)]
        year = self.year(node.year)
        last_month_index = first_month + months - 2  # zero-based, may run into the next year
        last_year, last_month = year + last_month_index // 12, last_month_index % 12 + 1
        if last_year > 9999:
            raise self.unsupported("it runs past the year 9999")
        return _Reading(
            earliest=datetime.date(year, first_month, 1),
            latest=_last_day(last_year, last_month),
            precision="season",
            display=template.format(year),
        )

    def unspecified(self, node: edtf.Unspecified) -> _Reading:
        """X digits: the bounds are the first and the last real date the pattern matches."""
        if node.year.startswith("-"):
            raise self.unsupported("years before 1 AD are not supported")
        years = [y for y in _matching(node.year) if 1 <= y <= 9999]
        months = [m for m in _matching(node.month or "XX") if 1 <= m <= 12]
        days = [d for d in _matching(node.day or "XX") if 1 <= d <= 31]
        earliest = _first_real_date(years, months, days)
        latest = _first_real_date(years[::-1], months[::-1], days[::-1])
        if earliest is None or latest is None:
            raise self.invalid("no real date matches it")
        unit = _smallest_unit(earliest, latest)
        if unit is None:
            raise self.unsupported("too vague: its dates span more than a century")
        if _unit_bounds(unit, earliest) == (earliest, latest):
            return _unit_reading(unit, earliest)
        return _Reading(earliest, latest, unit, _span_text(earliest, latest))

    def interval(self, node: edtf.Interval, open_words: tuple[str, str]) -> _Reading:
        lower, upper = node.lower, node.upper
        lower_missing = isinstance(lower, edtf.UnspecifiedIntervalSection)
        upper_missing = isinstance(upper, edtf.UnspecifiedIntervalSection)
        if lower_missing and upper_missing:
            raise self.invalid("an interval needs at least one known end")
        if lower_missing:
            known = self.read(upper)
            words = open_words[0] + " {}" if lower.is_open else "? – {}"
            return replace(known, earliest=datetime.date.min, precision="interval", display=words.format(known.display))
        if upper_missing:
            known = self.read(lower)
            words = open_words[1] + " {}" if upper.is_open else "{} – ?"
            return replace(known, latest=datetime.date.max, precision="interval", display=words.format(known.display))
        start, end = self.read(lower), self.read(upper)
        if start.earliest > end.latest:
            raise self.invalid("the interval ends before it starts")
        if start.precision == end.precision and _is_whole_unit(start) and _is_whole_unit(end):
            display = _span_text(start.earliest, end.latest)
        else:
            display = f"{start.display} – {end.display}"
        return _Reading(
            earliest=start.earliest,
            latest=end.latest,
            precision="interval",
            display=display,
            approximate=start.approximate or end.approximate,
            uncertain=start.uncertain or end.uncertain,
        )

    def set(self, node: edtf.OneOfASet | edtf.MultipleDates, conjunction: str) -> _Reading:
        members = [self.read(member) for member in node.objects]
        return _Reading(
            earliest=min(m.earliest for m in members),
            latest=max(m.latest for m in members),
            precision="set",
            display=_set_text(members, conjunction),
            approximate=any(m.approximate for m in members),
            uncertain=any(m.uncertain for m in members),
        )


def _is_whole_unit(reading: _Reading) -> bool:
    """An unqualified whole day, month or year: the ends an interval can merge into one text."""
    return (
        reading.precision in ("day", "month", "year")
        and not reading.qualified
        and _unit_bounds(reading.precision, reading.earliest) == (reading.earliest, reading.latest)
    )


def _qualify(reading: _Reading, node: edtf.EDTFObject) -> _Reading:
    both = node.is_uncertain_and_approximate
    approximate, uncertain = node.is_approximate or both, node.is_uncertain or both
    if not (approximate or uncertain):
        return reading
    display = ("c. " if approximate else "") + reading.display + ("?" if uncertain else "")
    return replace(reading, display=display, approximate=approximate, uncertain=uncertain)


# -- calendar arithmetic ----------------------------------------------------------------------


def _last_day(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _matching(pattern: str) -> list[int]:
    """Every number whose digits match the pattern, X standing for any digit, in ascending order."""
    return [int("".join(digits)) for digits in product(*("0123456789" if c == "X" else c for c in pattern))]


def _first_real_date(years: Sequence[int], months: Sequence[int], days: Sequence[int]) -> datetime.date | None:
    """The first date that exists, trying years, then months, then days in the order given."""
    for year in years:
        for month in months:
            length = calendar.monthrange(year, month)[1]
            for day in days:
                if day <= length:
                    return datetime.date(year, month, day)
    return None


def _smallest_unit(earliest: datetime.date, latest: datetime.date) -> str | None:
    if earliest == latest:
        return "day"
    if (earliest.year, earliest.month) == (latest.year, latest.month):
        return "month"
    if earliest.year == latest.year:
        return "year"
    if earliest.year // 10 == latest.year // 10:
        return "decade"
    if earliest.year // 100 == latest.year // 100:
        return "century"
    return None


def _unit_bounds(unit: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    if unit == "day":
        return day, day
    if unit == "month":
        return day.replace(day=1), _last_day(day.year, day.month)
    size = {"year": 1, "decade": 10, "century": 100}[unit]
    first_year = max(day.year - day.year % size, 1)
    return datetime.date(first_year, 1, 1), datetime.date(day.year - day.year % size + size - 1, 12, 31)


def _unit_reading(unit: str, day: datetime.date) -> _Reading:
    earliest, latest = _unit_bounds(unit, day)
    return _Reading(earliest, latest, unit, _unit_text(unit, earliest))


# -- display ----------------------------------------------------------------------------------


def _unit_text(unit: str, day: datetime.date) -> str:
    if unit == "day":
        return f"{_MONTH_ABBREVIATIONS[day.month - 1]} {day.day}, {day.year}"
    if unit == "month":
        return f"{MONTHS[day.month - 1]} {day.year}"
    if unit == "year":
        return str(day.year)
    return f"{day.year - day.year % (10 if unit == 'decade' else 100)}s"


def _span_text(earliest: datetime.date, latest: datetime.date) -> str:
    """A span in the fewest words: whole years, whole months, a part of a month, or days."""
    whole_months = earliest.day == 1 and latest == _last_day(latest.year, latest.month)
    if whole_months and (earliest.month, latest.month) == (1, 12):
        return _joined(str(earliest.year), str(latest.year))
    if whole_months:
        return _month_span_text(earliest, latest)
    return _day_span_text(earliest, latest)


def _month_span_text(earliest: datetime.date, latest: datetime.date) -> str:
    first, last = _MONTH_ABBREVIATIONS[earliest.month - 1], _MONTH_ABBREVIATIONS[latest.month - 1]
    if earliest.year != latest.year:
        return f"{first} {earliest.year} – {last} {latest.year}"
    if earliest.month == latest.month:
        return _unit_text("month", earliest)
    part = _PARTS_OF_YEAR.get((earliest.month, latest.month))
    if part:
        return f"{part} {earliest.year}"
    return f"{first} – {last} {earliest.year}"


def _day_span_text(earliest: datetime.date, latest: datetime.date) -> str:
    if earliest == latest:
        return _unit_text("day", earliest)
    first = f"{_MONTH_ABBREVIATIONS[earliest.month - 1]} {earliest.day}"
    if earliest.year != latest.year:
        return f"{first}, {earliest.year} – {_unit_text('day', latest)}"
    if earliest.month != latest.month:
        return f"{first} – {_MONTH_ABBREVIATIONS[latest.month - 1]} {latest.day}, {latest.year}"
    month_end = _last_day(latest.year, latest.month).day
    part = {(1, 10): "early", (11, 20): "mid", (21, month_end): "late"}.get((earliest.day, latest.day))
    if part:
        return f"{part} {_unit_text('month', earliest)}"
    return f"{first} – {latest.day}, {latest.year}"


def _set_text(members: list[_Reading], conjunction: str) -> str:
    """`Jan 24 or 25, 2026` for plain days of one month, else each member's own display."""
    months = {(m.earliest.year, m.earliest.month) for m in members}
    if len(months) == 1 and all(m.precision == "day" and not m.qualified for m in members):
        first = members[0].earliest
        days = _listed([str(m.earliest.day) for m in members], conjunction)
        return f"{_MONTH_ABBREVIATIONS[first.month - 1]} {days}, {first.year}"
    return _listed([m.display for m in members], conjunction)


def _listed(items: list[str], conjunction: str) -> str:
    items = list(dict.fromkeys(items))  # each once, in the order given
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _joined(first: str, last: str) -> str:
    return first if first == last else f"{first} – {last}"


def _time_text(time: str) -> str:
    """`14:30:00Z` -> `14:30 UTC`, `09:05:30+05:00` -> `09:05:30 UTC+05:00`."""
    match = re.fullmatch(r"([0-9:]{8})(.*)", time)
    if match is None:
        return time
    clock, zone = match.groups()
    clock = clock[:5] if clock.endswith(":00") else clock
    if zone == "Z":
        return f"{clock} UTC"
    return f"{clock} UTC{zone}" if zone else clock
