"""Date phrases in news text, resolved against the publication day as EDTF.

`find_dates(text, published)` finds every date phrase ("last month", "Saturday, Jan. 24", "Over the
weekend", "Late last year", "In 2022", "that day", ...) and resolves it the way news is written:

- **Past-leaning.** A report tells what happened: "On Friday" in a Monday report is the Friday
  before, "Monday" in a Monday report is that day, "In October" is the most recent October that is
  not in the future, "last week" is the previous calendar week (Monday to Sunday), "Over the
  weekend" the last Saturday-Sunday, "last month" / "last year" the previous calendar month / year.
  A period that holds the publication day ("this week", "earlier this month", "in recent months")
  ends on that day, so nothing is placed after it was reported. A future cue in the sentence
  ("will", "scheduled", "set to", "expected to", "upcoming") turns weekdays, months and weekends
  forward; "next week", "tomorrow" are future by themselves.
- **Absolute dates keep their day.** "Saturday, Jan. 24" is `2026-01-24`; a missing year is the
  candidate (last, this or next year) nearest the publication day, a future one counting four times
  its distance (so "Jan. 24" in a Feb 2 report is the Jan 24 just past, "Feb. 10" the coming one).
- **Parts.** early = days 1-10, mid = 11-20, late = 21 to the end of a month; of a year early =
  January-April, mid = May-August, late = September-December ("Late last year" in 2026 is
  `2025-09/2025-12`), the same thirds `events.dates` displays.
- **Anaphora.** "that day", "the next day", "two days later", "weeks later" resolve against the
  previous date phrase of the same paragraph; with none they are not a calendar date and are left out.
- **Times of day** ("at 9:05 a.m. Saturday" in a Monday report) give `2026-01-31T09:05:00`;
  "Monday afternoon" stays a day (EDTF has no "afternoon", and a time is never invented).

Every EDTF string produced is one that `events.dates.parse_occurred` accepts, with the same
earliest/latest and display (a test checks it); they are computed here because the `edtf` parser
costs 5-40 ms a string. `find_dates` is pure, never raises, and its offsets always slice the text to
the phrase.

Why rules and not a library (measured on the 28 labelled phrases of the five corpus reports,
`tests/data/corpus_labels.py`, publication day 2026-02-02). A phrase is *found* when the library
reports a date overlapping it in the text, *exact* when that date's day bounds equal the label's:

    /tmp/datelibs/bin/python -m tests.data.measure_date_libraries     # run from the repository root;
    # /tmp/datelibs: a throwaway venv with dateparser 1.5.0, recognizers-text-suite 1.0.2a2, emoji 1.7.0

    library                                               found   exact         ms / report
    dateparser.search.search_dates (PREFER_DATES_FROM      21/28    2/28 ( 7%)      ~170
      past, RELATIVE_BASE = publication day)
    recognizers-text-suite recognize_datetime              26/28   23/28 (82%)     ~1,500
      (the past-leaning one of its candidates chosen)
    this rule layer (find_dates)                           28/28   28/28 (100%)       ~10

dateparser gives single days only ("last week", "last year", "In 2022" become one day, 2022-02-02),
makes "on Monday" in a Monday report the Monday before, and finds nothing for "last month", "that
day", "in recent months". recognizers (an alpha from 2019, needs `emoji<2`)
does well once its past-leaning candidate is picked for it, but reads "Over the weekend" forward
(Feb 7-8), "in late January" as Jan 16-31 and "Late last year" as July-December, misses "in recent
months", and takes 1.5 s a report. Neither earns a runtime dependency: the conventions are the
product, and `python-dateutil` (`relativedelta`) does the calendar arithmetic.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from events.dates import MONTHS

__all__ = ["DatePhrase", "When", "find_dates", "on_or_before", "read_edtf", "span_when"]


@dataclass(frozen=True, slots=True)
class When:
    """An EDTF date with the bounds and display `events.dates.parse_occurred` gives for it."""

    edtf: str
    earliest: date
    latest: date
    display: str
    precision: str  # day, month, year, decade, season, interval, time, set

    def contains(self, other: When) -> bool:
        return self.earliest <= other.earliest and other.latest <= self.latest

    def overlaps(self, other: When) -> bool:
        return self.earliest <= other.latest and other.earliest <= self.latest

    @property
    def days(self) -> int:
        """How many days the date spans (an open start counts as very wide)."""
        return (self.latest - self.earliest).days + 1


@dataclass(frozen=True, slots=True)
class DatePhrase:
    """One date phrase of a text: `text[start:end] == phrase`, resolved against the publication day."""

    phrase: str
    start: int
    end: int
    edtf: str
    earliest: date
    latest: date
    display: str
    precision: str

    @property
    def when(self) -> When:
        return When(self.edtf, self.earliest, self.latest, self.display, self.precision)


def on_or_before(published: date | datetime) -> When:
    """The date of a fact the report does not date: any day up to its publication (`[..2026-02-02]`)."""
    day = _day_of(published)
    return When(f"[..{day.isoformat()}]", date.min, day, f"on or before {_day_text(day)}", "set")


def span_when(earliest: date, latest: date) -> When:
    """The most compact EDTF for a span of days: a day, month, year, or an interval."""
    return _span(earliest, latest).when()


# -- values -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Val:
    earliest: date
    latest: date
    form: str  # day, approx, time, month, year, decade, season, span
    extra: str = ""  # the season code or the clock time

    def when(self) -> When:
        return when_of(self)


def when_of(val: _Val) -> When:
    e, last = val.earliest, val.latest
    if val.form == "day":
        return When(e.isoformat(), e, e, _day_text(e), "day")
    if val.form == "approx":
        return When(e.isoformat() + "~", e, e, "c. " + _day_text(e), "day")
    if val.form == "time":
        clock = val.extra[:5] if val.extra.endswith(":00") else val.extra
        return When(f"{e.isoformat()}T{val.extra}", e, e, f"{_day_text(e)}, {clock}", "time")
    if val.form == "month":
        return When(f"{e.year:04d}-{e.month:02d}", e, last, _month_text(e), "month")
    if val.form == "year":
        return When(f"{e.year:04d}", e, last, str(e.year), "year")
    if val.form == "decade":
        return When(f"{e.year // 10:03d}X", e, last, f"{e.year - e.year % 10}s", "decade")
    if val.form == "season":
        name = {"21": "Spring", "22": "Summer", "23": "Autumn", "24": "Winter"}[val.extra]
        return When(f"{e.year:04d}-{val.extra}", e, last, f"{name} {e.year}", "season")
    return _interval_when(e, last)


def _interval_when(e: date, last: date) -> When:
    """An interval whose ends are each written at the coarsest unit they fill (`2025-09/2026-02-02`)."""
    lower, upper = _end_unit(e, first=True), _end_unit(last, first=False)
    # A year at one end and a month or day at the other reads oddly; write the year as its month.
    if lower == "year" and upper != "year":
        lower = "month"
    if upper == "year" and lower != "year":
        upper = "month"
    if lower == "month" and upper == "day" and (e.year, e.month) == (last.year, last.month):
        lower = "day"  # `2026-01-01/2026-01-04`, not "January 2026 – Jan 4, 2026"
    if lower == "day":
        upper = "day"  # `2026-01-21/2026-01-31`, never `2026-01-21/2026-01`
    texts = {
        "day": lambda d: d.isoformat(),
        "month": lambda d: f"{d.year:04d}-{d.month:02d}",
        "year": lambda d: f"{d.year:04d}",
    }
    edtf = f"{texts[lower](e)}/{texts[upper](last)}"
    display = _span_text(e, last) if lower == upper else f"{_unit_display(lower, e)} – {_unit_display(upper, last)}"
    return When(edtf, e, last, display, "interval")


def _end_unit(d: date, first: bool) -> str:
    if first:
        if d.month == 1 and d.day == 1:
            return "year"
        return "month" if d.day == 1 else "day"
    if d.month == 12 and d.day == 31:
        return "year"
    return "month" if d.day == _month_len(d) else "day"


def _span(e: date, last: date) -> _Val:
    if last < e:
        e, last = last, e
    if e == last:
        return _Val(e, e, "day")
    if e.day == 1 and (e.year, e.month) == (last.year, last.month) and last.day == _month_len(last):
        return _Val(e, last, "month")
    if (e.month, e.day) == (1, 1) and (last.month, last.day) == (12, 31):
        if e.year == last.year:
            return _Val(e, last, "year")
        if e.year % 10 == 0 and last.year == e.year + 9:
            return _Val(e, last, "decade")
    return _Val(e, last, "span")


def _month(year: int, month: int) -> _Val:
    first = date(year, month, 1)
    return _Val(first, date(year, month, _month_len(first)), "month")


def _year(year: int) -> _Val:
    return _Val(date(year, 1, 1), date(year, 12, 31), "year")


def _season(year: int, code: str) -> _Val:
    start_month = {"21": 3, "22": 6, "23": 9, "24": 12}[code]
    first = date(year, start_month, 1)
    last = first + relativedelta(months=3) - timedelta(days=1)
    return _Val(first, last, "season", code)


def _clamp(val: _Val, published: date) -> _Val:
    """A period that holds the publication day ends on it (past-leaning)."""
    if val.earliest <= published < val.latest:
        return _span(val.earliest, published)
    return val


# -- display (the same words events.dates uses) -----------------------------------------------

_MONTH_NAMES = MONTHS
_MONTH_ABBREVIATIONS = tuple(name[:3] for name in _MONTH_NAMES)
_PARTS_OF_YEAR = {(1, 3): "early", (1, 4): "early", (5, 8): "mid", (9, 12): "late", (10, 12): "late"}


def _month_len(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def _day_text(d: date) -> str:
    return f"{_MONTH_ABBREVIATIONS[d.month - 1]} {d.day}, {d.year}"


def _month_text(d: date) -> str:
    return f"{_MONTH_NAMES[d.month - 1]} {d.year}"


def _unit_display(unit: str, d: date) -> str:
    return {"day": _day_text, "month": _month_text, "year": lambda x: str(x.year)}[unit](d)


def _span_text(e: date, end: date) -> str:
    whole_months = e.day == 1 and end.day == _month_len(end)
    if whole_months and (e.month, end.month) == (1, 12):
        return str(e.year) if e.year == end.year else f"{e.year} – {end.year}"
    if whole_months:
        first, last = _MONTH_ABBREVIATIONS[e.month - 1], _MONTH_ABBREVIATIONS[end.month - 1]
        if e.year != end.year:
            return f"{first} {e.year} – {last} {end.year}"
        if e.month == end.month:
            return _month_text(e)
        part = _PARTS_OF_YEAR.get((e.month, end.month))
        return f"{part} {e.year}" if part else f"{first} – {last} {e.year}"
    if e == end:
        return _day_text(e)
    first = f"{_MONTH_ABBREVIATIONS[e.month - 1]} {e.day}"
    if e.year != end.year:
        return f"{first}, {e.year} – {_day_text(end)}"
    if e.month != end.month:
        return f"{first} – {_MONTH_ABBREVIATIONS[end.month - 1]} {end.day}, {end.year}"
    part = {(1, 10): "early", (11, 20): "mid", (21, _month_len(end)): "late"}.get((e.day, end.day))
    if part:
        return f"{part} {_month_text(e)}"
    return f"{first} – {end.day}, {end.year}"


# -- vocabulary -------------------------------------------------------------------------------

_MONTHS = {name.lower(): i + 1 for i, name in enumerate(_MONTH_NAMES)}
_MONTHS.update(
    {
        "jan": 1,
        "feb": 2,
        "mar": 3,
        "apr": 4,
        "jun": 6,
        "jul": 7,
        "aug": 8,
        "sep": 9,
        "sept": 9,
        "oct": 10,
        "nov": 11,
        "dec": 12,
    }
)
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEKDAYS.update(
    {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
)
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "couple of": 2,
}
_VAGUE = {"a few", "few", "several", "some"}

MONTH_FULL = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
MONTH_ABBR = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
MONTH_ANY = rf"(?:{MONTH_FULL}|{MONTH_ABBR})"
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
WEEKDAY_ANY = rf"(?:{WEEKDAY}|(?:Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun)\.)"
NUMBER = (
    r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+couple\s+of|a\s+few|several)"
)
PREP = r"(?:on|in|over|during|at|back\s+in|since|from)"
_B = r"(?<![\w'’-])"  # a word starts here
_E = r"(?![\w-])"  # a word ends here

_FUTURE_CUE = re.compile(
    r"\b(?:will|won[’']t|shall|is\s+set\s+to|are\s+set\s+to|set\s+for|scheduled|is\s+expected\s+to|are\s+expected\s+to|"
    r"plans?\s+to|planning\s+to|upcoming|is\s+due|are\s+due|slated|next)\b|[’']ll\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Ctx:
    text: str
    published: date

    def future(self, start: int, end: int) -> bool:
        """A future cue in the sentence holding text[start:end], before the phrase or just after it."""
        left = max(self.text.rfind(". ", 0, start), self.text.rfind("\n", 0, start), start - 160)
        right_stop = [i for i in (self.text.find(". ", end), self.text.find("\n", end)) if i != -1]
        right = min([end + 40, *right_stop])
        return bool(_FUTURE_CUE.search(self.text, left + 1 if left >= 0 else 0, start)) or bool(
            _FUTURE_CUE.search(self.text, end, right)
        )


Resolver = Callable[[re.Match, _Ctx], "_Val | None"]


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    pattern: re.Pattern
    resolve: Resolver
    anaphoric: bool = False
    clock: bool = False


# -- resolvers --------------------------------------------------------------------------------


def _g(m: re.Match, name: str) -> str | None:
    try:
        value = m.group(name)
    except IndexError:
        return None
    return value.lower() if value else None


def _count(word: str | None) -> int | None:
    if word is None:
        return None
    word = re.sub(r"\s+", " ", word.lower())
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def _month_number(word: str) -> int:
    return _MONTHS[word.lower().rstrip(".")]


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _nearest_year(month: int, day: int, published: date, future: bool, weekday: int | None) -> int | None:
    """The year (last, this or next) whose month/day lies nearest the publication day, past-leaning."""
    best: tuple[float, int] | None = None
    for year in (published.year - 1, published.year, published.year + 1):
        if day > calendar.monthrange(year, month)[1]:
            continue
        candidate = date(year, month, day)
        distance = (candidate - published).days
        if future:
            cost = float(-distance * 4) if distance < 0 else float(distance)
        else:
            cost = float(distance * 4) if distance > 0 else float(-distance)
        if weekday is not None and candidate.weekday() != weekday:
            cost += 10_000  # a weekday that fits the date wins over one that does not
        if best is None or cost < best[0]:
            best = (cost, year)
    return best[1] if best else None


def _with_since(val: _Val | None, m: re.Match, ctx: _Ctx) -> _Val | None:
    if val is not None and "pre" in m.re.groupindex and _g(m, "pre") == "since" and val.earliest <= ctx.published:
        return _span(val.earliest, ctx.published)
    return val


def _explicit(m: re.Match, ctx: _Ctx) -> _Val | None:
    month = _month_number(m.group("month"))
    day = int(m.group("day"))
    weekday = _WEEKDAYS.get((_g(m, "wd") or "").rstrip("."))
    year_text = m.group("year") if "year" in m.re.groupindex else None
    nearest = _nearest_year(month, day, ctx.published, ctx.future(m.start(), m.end()), weekday)
    year = int(year_text) if year_text else nearest
    if year is None:
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    first = date(year, month, day)
    day2 = m.group("day2") if "day2" in m.re.groupindex else None
    if day2:
        last_day = int(day2)
        if not day < last_day <= calendar.monthrange(year, month)[1]:
            return None
        return _with_since(_span(first, date(year, month, last_day)), m, ctx)
    return _with_since(_Val(first, first, "day"), m, ctx)


def _iso(m: re.Match, ctx: _Ctx) -> _Val | None:
    first = date(int(m.group("year")), int(m.group("month")), int(m.group("day")))
    return _with_since(_Val(first, first, "day"), m, ctx)


_PART_DAYS = {"early": (1, 10), "mid": (11, 20), "late": (21, 31)}
_PART_MONTHS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}


def _part_word(part: str | None) -> str | None:
    if not part:
        return None
    part = re.sub(r"\s+", " ", part.lower()).strip(" -")
    if part.startswith("the "):
        part = part[4:]
    for word, meaning in (
        ("end of", "late"),
        ("beginning of", "early"),
        ("start of", "early"),
        ("middle of", "mid"),
        ("first week of", "first week"),
        ("last week of", "last week"),
        ("early", "early"),
        ("mid", "mid"),
        ("late", "late"),
        ("earlier", "earlier"),
        ("later", "later"),
    ):
        if part == word:
            return meaning
    return None


def _month_part(val: _Val, part: str | None) -> _Val:
    """Early/mid/late (or the first/last week) of a month."""
    if part is None:
        return val
    length = _month_len(val.earliest)
    if part == "first week":
        lo, hi = 1, 7
    elif part == "last week":
        lo, hi = length - 6, length
    else:
        lo, hi = _PART_DAYS[part]
    return _span(val.earliest.replace(day=lo), val.earliest.replace(day=min(hi, length)))


def _year_part(year: int, part: str | None) -> _Val:
    if part is None or part not in _PART_MONTHS:
        return _year(year)
    lo, hi = _PART_MONTHS[part]
    return _span(date(year, lo, 1), _month(year, hi).latest)


def _pick_recent(candidates: list[_Val], published: date, future: bool) -> _Val | None:
    """Past-leaning: the latest candidate that has begun; forward: the first that has not ended."""
    ordered = sorted(candidates, key=lambda v: v.earliest)
    if future:
        upcoming = [v for v in ordered if v.latest >= published]
        return upcoming[0] if upcoming else None
    begun = [v for v in ordered if v.earliest <= published]
    return _clamp(begun[-1], published) if begun else None


def _month_year(m: re.Match, ctx: _Ctx) -> _Val | None:
    month = _month_number(m.group("month"))
    rel = _g(m, "rel")
    if m.group("year"):
        year = int(m.group("year"))
    else:
        year = ctx.published.year + {"last": -1, "this": 0, "next": 1}[rel or "this"]
    val = _month_part(_month(year, month), _part_word(m.group("part")))
    return _with_since(val, m, ctx)


def _month_alone(m: re.Match, ctx: _Ctx) -> _Val | None:
    word = m.group("month")
    pre = re.sub(r"\s+", " ", (m.group("pre") or "").lower())
    part = _part_word(m.group("part"))
    if not pre and part is None and word in ("May", "June", "April", "August", "March"):
        return None  # names and verbs more often than months
    month = _month_number(word)
    published = ctx.published
    future = ctx.future(m.start(), m.end())
    rel = _g(m, "rel")
    if rel == "last":
        year = published.year if month < published.month else published.year - 1
        return _month_part(_month(year, month), part)
    if rel == "next":
        year = published.year if month > published.month else published.year + 1
        return _month_part(_month(year, month), part)
    if rel == "this":
        val = _month_part(_month(published.year, month), part)
        return val if future else _clamp(val, published)
    candidates = [_month_part(_month(y, month), part) for y in (published.year - 1, published.year, published.year + 1)]
    recent = _pick_recent(candidates, published, future)
    if recent is not None and pre == "since":
        return _span(recent.earliest, published)
    return recent


def _part_of_month_alone(m: re.Match, ctx: _Ctx) -> _Val | None:
    return _month_alone(m, ctx)


def _relative_unit(m: re.Match, ctx: _Ctx) -> _Val | None:
    rel = re.sub(r"\s+", " ", (m.group("rel") or "").lower())
    unit = m.group("unit").lower()
    part = _part_word(m.group("part")) if "part" in m.re.groupindex else None
    published = ctx.published
    future = ctx.future(m.start(), m.end())
    rel = {"previous": "last", "the previous": "last", "coming": "next", "the coming": "next"}.get(rel, rel)
    if rel in ("past", "the past", "the last"):
        if part:
            return None
        back = {"week": relativedelta(days=7), "month": relativedelta(months=1), "year": relativedelta(years=1)}[unit]
        return _span(published - back, published)
    base = _calendar_unit(unit, rel, published)
    if part is None:
        val = base
    elif part == "earlier":
        if rel != "this":
            val = base
        else:
            val = _span(base.earliest, max(base.earliest, published - timedelta(days=1)))
    elif part == "later":
        if rel != "this":
            val = base
        else:
            val = _span(min(base.latest, published + timedelta(days=1)), base.latest)
            return val
    else:
        val = _unit_part(unit, base, part)
    if rel == "this" and not future:
        return _clamp(val, published)
    return val


def _calendar_unit(unit: str, rel: str, published: date) -> _Val:
    shift = {"last": -1, "this": 0, "next": 1}[rel]
    if unit == "week":
        monday = _monday(published) + timedelta(weeks=shift)
        return _span(monday, monday + timedelta(days=6))
    if unit == "month":
        first = published.replace(day=1) + relativedelta(months=shift)
        return _month(first.year, first.month)
    return _year(published.year + shift)


def _unit_part(unit: str, base: _Val, part: str) -> _Val:
    if unit == "month":
        return _month_part(base, part if part in _PART_DAYS else None)
    if unit == "year":
        return _year_part(base.earliest.year, part)
    monday = base.earliest
    lo, hi = {"early": (0, 2), "mid": (2, 3), "late": (3, 6)}.get(part, (0, 6))
    return _span(monday + timedelta(days=lo), monday + timedelta(days=hi))


def _weekend(m: re.Match, ctx: _Ctx) -> _Val | None:
    rel = re.sub(r"\s+", " ", (m.group("rel") or "the").lower())
    published = ctx.published
    saturday = published - timedelta(days=(published.weekday() - 5) % 7)  # the last Saturday, or today
    in_weekend = published.weekday() >= 5
    future = ctx.future(m.start(), m.end())
    if rel in ("next", "the coming", "coming") or (future and rel in ("the", "this")):
        start = saturday if in_weekend and rel != "next" else saturday + timedelta(days=7)
        return _span(start, start + timedelta(days=1))
    if rel in ("last", "this past", "the past", "past") and in_weekend:
        start = saturday - timedelta(days=7)
        return _span(start, start + timedelta(days=1))
    return _clamp(_span(saturday, saturday + timedelta(days=1)), published)


def _weekday(m: re.Match, ctx: _Ctx) -> _Val | None:
    weekday = _WEEKDAYS[m.group("wd").lower().rstrip(".")]
    pre = re.sub(r"\s+", " ", (m.group("pre") or "").lower())
    published = ctx.published
    back = (published.weekday() - weekday) % 7
    ahead = (weekday - published.weekday()) % 7
    if pre in ("last", "past", "this past"):
        day = published - timedelta(days=back or 7)
    elif pre == "next":
        day = published + timedelta(days=ahead or 7)
    elif pre == "this":
        day = _monday(published) + timedelta(days=weekday)
    elif ctx.future(m.start(), m.end()):
        day = published + timedelta(days=ahead)
    else:
        day = published - timedelta(days=back)
    return _with_since(_Val(day, day, "day"), m, ctx)


def _deictic(m: re.Match, ctx: _Ctx) -> _Val | None:
    word = re.sub(r"\s+", " ", m.group("word").lower())
    published = ctx.published
    if word.startswith("the day before yesterday"):
        offset = -2
    elif word.startswith("yesterday") or word == "last night":
        offset = -1
    elif word.startswith("tomorrow"):
        offset = 1
    else:
        offset = 0
    day = published + timedelta(days=offset)
    return _Val(day, day, "day")


def _ago(m: re.Match, ctx: _Ctx) -> _Val | None:
    unit = m.group("unit").lower().rstrip("s")
    words = re.sub(r"\s+", " ", (m.group("n") or "several").lower())  # "weeks ago": some weeks
    published = ctx.published
    if words in _VAGUE:
        lo, hi = (2, 6) if unit != "day" else (2, 7)
        if unit == "day":
            return _span(published - timedelta(days=hi), published - timedelta(days=lo))
        if unit == "week":
            return _span(published - timedelta(weeks=hi), published - timedelta(weeks=lo))
        if unit == "month":
            a, b = published - relativedelta(months=hi), published - relativedelta(months=lo)
            return _span(a.replace(day=1), _month(b.year, b.month).latest)
        if unit == "year":
            return _span(date(published.year - hi, 1, 1), date(published.year - lo, 12, 31))
        return None
    n = _count(words)
    if n is None:
        return None
    if unit == "day":
        day = published - timedelta(days=n)
        return _Val(day, day, "day")
    if unit == "week":
        day = published - timedelta(weeks=n)
        return _Val(day, day, "approx")
    if unit == "month":
        first = published.replace(day=1) - relativedelta(months=n)
        return _month(first.year, first.month)
    if unit == "year":
        return _year(published.year - n)
    if unit == "decade":
        year = published.year - 10 * n
        return _span(date(year - year % 10, 1, 1), date(year - year % 10 + 9, 12, 31))
    return None


_HOLIDAYS = {
    "new year's day": (1, 1),
    "new year’s day": (1, 1),
    "valentine's day": (2, 14),
    "valentine’s day": (2, 14),
    "independence day": (7, 4),
    "the fourth of july": (7, 4),
    "fourth of july": (7, 4),
    "july fourth": (7, 4),
    "halloween": (10, 31),
    "veterans day": (11, 11),
    "christmas eve": (12, 24),
    "christmas day": (12, 25),
    "christmas": (12, 25),
    "new year's eve": (12, 31),
    "new year’s eve": (12, 31),
    "boxing day": (12, 26),
}
_HOLIDAY_NAMES = "|".join(re.escape(name).replace("\\ ", r"\s+") for name in sorted(_HOLIDAYS, key=len, reverse=True))


def _holiday(m: re.Match, ctx: _Ctx) -> _Val | None:
    """A holiday on a fixed day: the one nearest the publication day, past-leaning, unless a year is given."""
    month, day = _HOLIDAYS[re.sub(r"\s+", " ", m.group("name").lower())]
    year = (
        int(m.group("year"))
        if m.group("year")
        else _nearest_year(month, day, ctx.published, ctx.future(m.start(), m.end()), None)
    )
    if year is None:
        return None
    when = date(year, month, day)
    return _Val(when, when, "day")


def _recent(m: re.Match, ctx: _Ctx) -> _Val | None:
    which = m.group("which").lower()
    unit = m.group("unit").lower().rstrip("s")
    words = re.sub(r"\s+", " ", (m.group("n") or "").lower())
    published = ctx.published
    if which == "recent" or words in ("few", "a few", "several", "couple of", "a couple of"):
        if unit == "day":
            return _span(published - timedelta(days=7), published)
        if unit == "week":
            return _span(published - timedelta(weeks=6), published)
        if unit == "month":
            first = published.replace(day=1) - relativedelta(months=5)
            return _span(first, published)
        if unit == "year":
            return _span(date(published.year - 5, 1, 1), published)
        return None
    n = _count(words) if words else 1
    if n is None:
        return None
    delta = {
        "day": relativedelta(days=n),
        "week": relativedelta(weeks=n),
        "month": relativedelta(months=n),
        "year": relativedelta(years=n),
    }.get(unit)
    if delta is None:
        return None
    return _span(published - delta, published)


def _year_rule(m: re.Match, ctx: _Ctx) -> _Val | None:
    year = int(m.group("year"))
    pre = re.sub(r"\s+", " ", (m.group("pre") or "").lower())
    part = _part_word(m.group("part"))
    if m.group("s"):
        if year % 10:
            return None
        lo, hi = {"early": (0, 3), "mid": (4, 6), "late": (7, 9)}.get(part or "", (0, 9))
        return _span(date(year + lo, 1, 1), date(year + hi, 12, 31))
    if not pre and part is None and not _DETERMINER_BEFORE.search(ctx.text, max(0, m.start() - 8), m.start()):
        return None  # a bare four-digit number is as often a count as a year ("a 2022 order" is a year)
    val = _year_part(year, part)
    if pre == "since" and val.earliest <= ctx.published:
        return _span(val.earliest, ctx.published)
    return val


_DETERMINER_BEFORE = re.compile(r"(?i)\b(?:the|a|an|his|her|its|their|this|that)\s+$")


def _short_decade(m: re.Match, ctx: _Ctx) -> _Val | None:
    digits = int(m.group("yy"))
    century = ctx.published.year // 100 * 100
    year = century + digits if century + digits <= ctx.published.year else century - 100 + digits
    part = _part_word(m.group("part"))
    lo, hi = {"early": (0, 3), "mid": (4, 6), "late": (7, 9)}.get(part or "", (0, 9))
    return _span(date(year + lo, 1, 1), date(year + hi, 12, 31))


_SEASON_CODES = {"spring": "21", "summer": "22", "fall": "23", "autumn": "23", "winter": "24"}


def _season_rule(m: re.Match, ctx: _Ctx) -> _Val | None:
    code = _SEASON_CODES[m.group("season").lower()]
    if m.group("year"):
        return _season(int(m.group("year")), code)
    rel = re.sub(r"\s+", " ", (m.group("rel") or "").lower())
    published = ctx.published
    instances = [_season(y, code) for y in range(published.year - 2, published.year + 2)]
    begun = [s for s in instances if s.earliest <= published]
    current = begun[-1] if begun and begun[-1].latest >= published else None
    if rel in ("last", "past", "this past"):
        return begun[-2] if current is not None else begun[-1]
    upcoming = [s for s in instances if s.earliest > published]
    if rel == "next":
        return upcoming[0]
    if rel == "this":
        if current is not None:
            return current if ctx.future(m.start(), m.end()) else _clamp(current, published)
        return upcoming[0] if ctx.future(m.start(), m.end()) else begun[-1]
    if ctx.future(m.start(), m.end()):
        return current or upcoming[0]
    return _clamp(begun[-1], published)


def _clock(m: re.Match, ctx: _Ctx) -> _Val | None:
    return None  # a time alone is no calendar date; it is merged with a neighbouring day


def _clock_text(m: re.Match) -> str | None:
    named = _g(m, "named")
    if named:
        return "12:00:00" if named == "noon" else "00:00:00"
    hour = int(m.group("hour"))
    minute = int(m.group("minute") or 0)
    ampm = m.group("ampm").lower().replace(".", "").replace(" ", "")
    if not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if ampm == "pm" else 0)
    return f"{hour:02d}:{minute:02d}:00"


# -- anaphora: resolved against the previous date of the paragraph -----------------------------


def _anaphoric(m: re.Match, anchor: _Val, published: date) -> _Val | None:
    text = re.sub(r"\s+", " ", m.group(0).lower())
    a, b = anchor.earliest, anchor.latest
    if anchor.form == "time":
        anchor = _Val(a, a, "day")
    if re.fullmatch(
        r"(?:later |earlier )?that (?:day|night|morning|afternoon|evening)|the same day|within hours", text
    ):
        return anchor if anchor.form in ("day", "approx", "span", "month", "year") else _span(a, b)
    if text in ("that week",):
        return _span(_monday(a), _monday(a) + timedelta(days=6)) if a == b else anchor
    if text == "that month":
        return _month(a.year, a.month)
    if text == "that year":
        return _year(a.year)
    if text in (
        "the next day",
        "the following day",
        "the next morning",
        "the following morning",
        "the day after",
        "the next night",
    ):
        return _span(a + timedelta(days=1), b + timedelta(days=1))
    if text in ("the previous day", "the day before", "the previous night"):
        return _span(a - timedelta(days=1), b - timedelta(days=1))
    if text in ("the next week", "the following week"):
        monday = _monday(b) + timedelta(days=7)
        return _span(monday, monday + timedelta(days=6))
    if text in ("the next month", "the following month"):
        first = b.replace(day=1) + relativedelta(months=1)
        return _month(first.year, first.month)
    if text in ("the next year", "the following year"):
        return _year(b.year + 1)
    if text == "within days":
        return _clamp(_span(a, b + timedelta(days=7)), published) if b <= published else _span(a, b + timedelta(days=7))
    found = re.fullmatch(
        rf"(?:(?P<n>{NUMBER}) )?(?P<unit>hours?|days?|weeks?|months?|years?) (?P<dir>later|earlier|after|before)", text
    )
    if not found:
        return None
    unit = found.group("unit").rstrip("s")
    forward = found.group("dir") in ("later", "after")
    words = found.group("n")
    n = _count(words) if words and words not in _VAGUE else None
    sign = 1 if forward else -1
    if unit == "hour":
        val = _span(a, b + timedelta(days=1)) if forward else _span(a - timedelta(days=1), b)
    elif n is not None:
        if unit == "day":
            val = _span(a + timedelta(days=sign * n), b + timedelta(days=sign * n))
        elif unit == "week":
            shifted = a + timedelta(weeks=sign * n)
            val = _Val(shifted, shifted, "approx") if a == b else _span(shifted, b + timedelta(weeks=sign * n))
        elif unit == "month":
            lo, hi = a + relativedelta(months=sign * n), b + relativedelta(months=sign * n)
            val = (
                _month(lo.year, lo.month)
                if (lo.year, lo.month) == (hi.year, hi.month)
                else _span(lo.replace(day=1), _month(hi.year, hi.month).latest)
            )
        else:
            val = (
                _year(a.year + sign * n)
                if a.year == b.year
                else _span(date(a.year + sign * n, 1, 1), date(b.year + sign * n, 12, 31))
            )
    else:
        reach = {
            "day": (relativedelta(days=1), relativedelta(days=10)),
            "week": (relativedelta(weeks=1), relativedelta(weeks=8)),
            "month": (relativedelta(months=1), relativedelta(months=12)),
            "year": (relativedelta(years=1), relativedelta(years=10)),
        }[unit]
        val = _span(a + reach[0], b + reach[1]) if forward else _span(a - reach[1], b - reach[0])
    if forward and b <= published and val.latest > published:
        val = _span(min(val.earliest, published), published)
    return val


# -- the rules ----------------------------------------------------------------------------------

_PART = r"(?:early|mid|late|the\s+(?:end|beginning|start|middle|first\s+week|last\s+week)\s+of)"
_TOD = r"(?:\s+(?:morning|afternoon|evening|night))"


def _c(pattern: str, flags: int = 0) -> re.Pattern:
    return re.compile(pattern, flags)


_RULES: tuple[_Rule, ...] = (
    _Rule(
        "explicit",
        _c(
            rf"{_B}(?:(?P<pre>(?i:on|since|from|until|by))\s+)?(?:(?P<wd>{WEEKDAY_ANY}),?\s+)?"
            rf"(?P<month>{MONTH_ANY})\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?:\s*[-–]\s*(?P<day2>[0-3]?\d))?(?![\d:])"
            rf"(?:,?\s+(?P<year>1[5-9]\d\d|20\d\d)(?!\d))?(?:{_TOD})?"
        ),
        _explicit,
    ),
    _Rule(
        "explicit-dmy",
        _c(
            rf"{_B}(?:(?P<pre>(?i:on|since|from))\s+)?(?:(?P<wd>{WEEKDAY_ANY}),?\s+)?(?i:the\s+)?(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?i:of\s+)?"
            rf"(?P<month>{MONTH_ANY})(?![\w])(?:,?\s+(?P<year>1[5-9]\d\d|20\d\d)(?!\d))?"
        ),
        _explicit,
    ),
    _Rule("iso", _c(r"(?<![\d-])(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>[0-3]\d)(?![\d-])"), _iso),
    _Rule(
        "month-year",
        _c(
            rf"{_B}(?:(?P<pre>(?i:in|during|since|by|from|until|through|back\s+in))\s+)?(?:(?P<part>(?i:{_PART}))[-\s]+)?"
            rf"(?P<month>{MONTH_ANY})(?:,?\s+(?i:of\s+)?(?P<year>1[5-9]\d\d|20\d\d)(?!\d)|\s+(?i:of\s+(?P<rel>last|this|next)\s+year))"
        ),
        _month_year,
    ),
    _Rule(
        "month",
        _c(
            rf"{_B}(?:(?P<pre>(?i:in|during|since|through|until|back\s+in|by|from))\s+)?(?:(?P<rel>(?i:last|this|next))\s+)?"
            rf"(?:(?P<part>(?i:{_PART}))[-\s]+)?(?P<month>{MONTH_FULL})(?!\s*\d)(?![\w-])"
        ),
        _month_alone,
    ),
    _Rule(
        "relative-part",
        _c(
            rf"(?i:{_B}(?:(?P<pre>in|since|by|during)\s+)?(?P<part>early|mid|late|earlier|later|the\s+(?:end|beginning|start|middle)\s+of)[-\s]+"
            rf"(?P<rel>last|this|next|the\s+previous|previous)\s+(?P<unit>week|month|year){_E})"
        ),
        _relative_unit,
    ),
    _Rule(
        "relative",
        _c(
            rf"(?i:{_B}(?:(?P<pre>in|over|during|since|for|within)\s+)?(?P<rel>last|this|next|past|previous|coming|the\s+past|the\s+previous|the\s+coming|the\s+last)\s+(?P<unit>week|month|year){_E})"
        ),
        _relative_unit,
    ),
    _Rule(
        "weekend",
        _c(
            rf"(?i:{_B}(?:(?P<pre>over|during|on|at|from|by|since)\s+)?(?P<rel>the|this|last|next|this\s+past|the\s+past|the\s+coming)\s+weekend{_E})"
        ),
        _weekend,
    ),
    _Rule(
        "weekday",
        _c(
            rf"{_B}(?:(?P<pre>(?i:on|this\s+past|last|this|next|past|early|late|earlier|later|since))\s+)?"
            r"(?<!Black )(?<!Good )(?<!Super )(?<!Cyber )(?<!Ash )"
            rf"(?P<wd>{WEEKDAY})(?:{_TOD})?(?![\w-])"
        ),
        _weekday,
    ),
    _Rule(
        "deictic",
        _c(
            rf"(?i:{_B}(?P<word>the\s+day\s+before\s+yesterday|(?:yesterday|tomorrow)(?:{_TOD})?|today|tonight|this\s+(?:morning|afternoon|evening)|last\s+night|earlier\s+today|later\s+today){_E})"
        ),
        _deictic,
    ),
    _Rule(
        "ago", _c(rf"(?i:{_B}(?:(?P<n>{NUMBER})\s+)?(?P<unit>days?|weeks?|months?|years?|decades?)\s+ago{_E})"), _ago
    ),
    _Rule(
        "holiday",
        _c(
            rf"(?i:{_B}(?:(?P<pre>on|since|by)\s+)?(?P<name>{_HOLIDAY_NAMES})(?:,?\s+(?P<year>1[5-9]\d\d|20\d\d)(?!\d))?)"
        ),
        _holiday,
    ),
    _Rule(
        "recent",
        _c(
            rf"(?i:{_B}(?P<pre>in|over|during|within|for)\s+(?:the\s+)?(?P<which>recent|past|last|previous)\s+"
            rf"(?:(?P<n>\d{{1,3}}|two|three|four|five|six|seven|eight|nine|ten|few|several|couple\s+of)\s+)?(?P<unit>days|weeks|months|years){_E})"
        ),
        _recent,
    ),
    _Rule(
        "year",
        _c(
            rf"{_B}(?:(?P<pre>(?i:in|since|during|of|from|back\s+in|by|until|through|to|for|before|after))\s+)?"
            rf"(?:(?P<part>(?i:{_PART}))[-\s]+)?(?<![\d$£€.,])(?P<year>1[6-9]\d\d|20\d\d)(?P<s>s|’s|'s)?(?![\d%])(?![.,]\d)(?!\s*(?i:percent))"
        ),
        _year_rule,
    ),
    _Rule(
        "short-decade", _c(rf"(?i:{_B}the\s+(?:(?P<part>early|mid|late)[-\s]+)?['’](?P<yy>\d0)s{_E})"), _short_decade
    ),
    _Rule(
        "season",
        _c(
            rf"(?i:{_B}(?:(?P<pre>in|during|over|since|by)\s+)?(?:(?P<rel>last|this|next|this\s+past|the|past)\s+)(?P<season>spring|summer|fall|autumn|winter)(?:\s+(?:of\s+)?(?P<year>\d{{4}}))?{_E})"
        ),
        _season_rule,
    ),
    _Rule(
        "season-year",
        _c(
            rf"(?i:{_B}(?P<rel>)(?P<season>spring|summer|fall|autumn|winter)\s+(?:of\s+)?(?P<year>1[6-9]\d\d|20\d\d){_E})"
        ),
        _season_rule,
    ),
    _Rule(
        "anaphoric",
        _c(
            rf"(?i:{_B}(?:(?:later|earlier)\s+)?that\s+(?:day|night|morning|afternoon|evening|week|month|year)|the\s+same\s+day|"
            rf"the\s+(?:next|following|previous)\s+(?:day|morning|night|week|month|year)|the\s+day\s+(?:before|after)(?!\s+(?:yesterday|tomorrow))|"
            rf"within\s+(?:hours|days)|(?:{NUMBER}\s+)?(?:hours?|days?|weeks?|months?|years?)\s+(?:later|earlier){_E})"
        ),
        _clock,
        anaphoric=True,
    ),
    _Rule(
        "clock",
        _c(
            rf"(?i:{_B}(?:(?:at|around|about|approximately|shortly\s+(?:before|after)|just\s+(?:before|after))\s+)?"
            rf"(?:(?P<hour>[01]?\d)(?::(?P<minute>[0-5]\d))?\s*(?P<ampm>a\.\s?m\.|p\.\s?m\.|a\.m\b|p\.m\b|am\b|pm\b)|(?P<named>noon|midnight)))"
        ),
        _clock,
        clock=True,
    ),
)

# Anaphoric phrases that only look like a relation ("days after the shooting") are not dates; a
# number of days after a date ("two days after Jan. 24") shifts that date.
_OFFSET_BEFORE = re.compile(rf"(?i:(?P<n>{NUMBER})\s+(?P<unit>days?|weeks?|months?)\s+(?P<dir>after|before)\s+)$")


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    rule: _Rule
    match: re.Match
    val: _Val | None


def find_dates(text: str, published: date | datetime) -> list[DatePhrase]:
    """Every date phrase of `text`, resolved against the publication day; never raises."""
    if not isinstance(text, str) or not text:
        return []
    try:
        day = _day_of(published)
    except (TypeError, ValueError, AttributeError):
        return []
    ctx = _Ctx(text, day)
    hits: list[_Hit] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            if match.end() <= match.start():
                continue
            val = None
            if not (rule.anaphoric or rule.clock):
                try:
                    val = _with_since(rule.resolve(match, ctx), match, ctx)  # "since last year": to the report
                except (ValueError, OverflowError, KeyError):
                    val = None
                if val is None:
                    continue
            hits.append(_Hit(match.start(), match.end(), rule, match, val))
    chosen = _non_overlapping(hits)
    phrases: list[tuple[int, int, _Val]] = []
    clocks = [h for h in chosen if h.rule.clock]
    previous: tuple[int, _Val] | None = None  # the end and value of the last calendar date of the paragraph
    for hit in (h for h in chosen if not h.rule.clock):
        if previous is not None and "\n" in text[previous[0] : hit.start]:
            previous = None
        start, end, val = hit.start, hit.end, hit.val
        if hit.rule.anaphoric:
            if previous is None:
                continue
            try:
                val = _anaphoric(hit.match, previous[1], day)
            except (ValueError, OverflowError):
                val = None
            if val is None:
                continue
        assert val is not None
        start, val = _offset(text, start, val)
        start, end, val = _attach_clock(text, start, end, val, clocks)
        phrases.append((start, end, val))
        if not hit.rule.anaphoric:
            previous = (end, val)
    result = []
    for start, end, val in phrases:
        try:
            when = val.when()
        except (ValueError, OverflowError, KeyError):
            continue
        result.append(
            DatePhrase(text[start:end], start, end, when.edtf, when.earliest, when.latest, when.display, when.precision)
        )
    return result


def _day_of(published: date | datetime) -> date:
    if isinstance(published, datetime):
        return published.date()
    if isinstance(published, date):
        return published
    raise TypeError("published must be a date or a datetime")


def _non_overlapping(hits: list[_Hit]) -> list[_Hit]:
    """Longest first, then the earlier rule; the chosen hits in text order."""
    taken: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), _RULES.index(h.rule), h.start)):
        if all(hit.end <= t.start or hit.start >= t.end for t in taken):
            taken.append(hit)
    return sorted(taken, key=lambda h: h.start)


def _offset(text: str, start: int, val: _Val) -> tuple[int, _Val]:
    found = _OFFSET_BEFORE.search(text, max(0, start - 40), start)
    if not found or val.form not in ("day", "approx"):
        return start, val
    n = _count(found.group("n"))
    if n is None:
        return start, val
    unit = found.group("unit").lower().rstrip("s")
    sign = 1 if found.group("dir").lower() == "after" else -1
    delta = {"day": relativedelta(days=n), "week": relativedelta(weeks=n), "month": relativedelta(months=n)}[unit]
    shifted = val.earliest + delta * sign
    return found.start(), _Val(shifted, shifted, "day")


def _attach_clock(text: str, start: int, end: int, val: _Val, clocks: list[_Hit]) -> tuple[int, int, _Val]:
    """A clock time next to a day ("at 9:05 a.m. Saturday", "Jan. 24 at about 9 a.m.") gives a time."""
    if val.form not in ("day", "approx"):
        return start, end, val
    for hit in clocks:
        gap = text[hit.end : start] if hit.end <= start else text[end : hit.start] if hit.start >= end else None
        if gap is None or len(gap) > 6 or not re.fullmatch(r"[\s,]*(?:(?:on|at)\s+)?", gap, re.IGNORECASE):
            continue
        clock = _clock_text(hit.match)
        if clock is None:
            continue
        return min(start, hit.start), max(end, hit.end), _Val(val.earliest, val.earliest, "time", clock)
    return start, end, val


# -- reading back the EDTF the record holds ----------------------------------------------------

_EDTF_DAY = r"\d{4}-\d{2}-\d{2}"
_EDTF_MONTH = r"\d{4}-(?:0[1-9]|1[0-2])"
_EDTF_YEAR = r"\d{4}"
_EDTF_END = rf"(?:{_EDTF_DAY}|{_EDTF_MONTH}|{_EDTF_YEAR})"


def read_edtf(edtf: str) -> When | None:
    """Bounds of the common EDTF forms (a day, month, year, season, decade, an interval of them,
    `[..day]`, an open end, `~`/`?` qualifiers), without the slow `edtf` parser; None for the rest.

    For matching only: the bounds are those `events.dates` computes, the display is a plain one.
    """
    text = (edtf or "").strip()
    try:
        plain = text.rstrip("~?%")
        if re.fullmatch(rf"\[\.\.{_EDTF_DAY}\]", text):
            day = date.fromisoformat(text[3:-1])
            return When(text, date.min, day, f"on or before {_day_text(day)}", "set")
        if "/" in plain:
            lower, upper = plain.split("/", 1)
            lo = None if lower in ("", "..") else _edtf_unit(lower.rstrip("~?%"))
            hi = None if upper in ("", "..") else _edtf_unit(upper.rstrip("~?%"))
            if lo is None and hi is None:
                return None
            earliest = lo.earliest if lo else date.min
            latest = hi.latest if hi else date.max
            if earliest > latest:
                return None
            return When(text, earliest, latest, _span_text(earliest, latest) if lo and hi else text, "interval")
        unit = _edtf_unit(plain)
        if unit is None:
            return None
        when = unit.when()
        if text != plain:
            return When(
                text,
                when.earliest,
                when.latest,
                ("c. " if "~" in text[len(plain) :] else "") + when.display,
                when.precision,
            )
        return when
    except (ValueError, OverflowError):
        return None


def _edtf_unit(text: str) -> _Val | None:
    if re.fullmatch(_EDTF_DAY, text):
        day = date.fromisoformat(text)
        return _Val(day, day, "day")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?", text):
        day = date.fromisoformat(text[:10])
        return _Val(day, day, "time", text[11:19])
    if re.fullmatch(_EDTF_MONTH, text):
        return _month(int(text[:4]), int(text[5:7]))
    if re.fullmatch(r"\d{4}-(?:21|22|23|24)", text):
        return _season(int(text[:4]), text[5:7])
    if re.fullmatch(_EDTF_YEAR, text):
        return _year(int(text))
    if re.fullmatch(r"\d{3}X", text):
        year = int(text[:3]) * 10
        return _span(date(year, 1, 1), date(year + 9, 12, 31))
    return None
