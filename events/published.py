"""Publication times as reports give them: a calendar day, or a time.

Most reports give only the day they appeared. That precision is kept and shown ("Feb 2, 2026",
never an invented "12:00 PM UTC"), and a cut-off never counts something as public before it could
have been: a day counts from the end of that day, UTC unless the day is given with an offset
(`2026-02-02-05:00`). So every publication has one instant, `moment`, from which it certainly was
public, and cut-offs compare only that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from events.admissible import time_problem

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$")
FORMS = "a calendar date (2026-02-02) or an RFC 3339 time (2026-02-02T14:30:00Z)"


@dataclass(frozen=True, slots=True)
class Published:
    """When something became public: `moment` (UTC) from which it certainly was, and `day` when
    only the day is known."""

    moment: datetime
    day: date | None = None

    @property
    def precision(self) -> str:
        return "day" if self.day is not None else "time"

    def text(self) -> str:
        """As it leaves the service: the day (`2026-02-02`) or the time in UTC (`...T14:30:00Z`)."""
        if self.day is not None:
            offset = end_of_day(self.day) - self.moment
            if not offset:
                return self.day.isoformat()
            sign, offset = ("-", -offset) if offset < timedelta(0) else ("+", offset)
            hours, seconds = divmod(int(offset.total_seconds()), 3600)
            return f"{self.day.isoformat()}{sign}{hours:02d}:{seconds // 60:02d}"
        return self.moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def end_of_day(day: date, offset: timezone = timezone.utc) -> datetime:
    """The last instant of `day` in `offset`, in UTC (raises OverflowError past year 9999)."""
    return datetime.combine(day, time.max, offset).astimezone(timezone.utc)


def parse_published(value: str | date | datetime) -> Published:
    """A publication time as a day or a time; ValueError says what is wrong and what is accepted."""
    if isinstance(value, datetime):
        return _at(value, str(value))
    if isinstance(value, date):
        return _on(value, timezone.utc, value.isoformat())
    if not isinstance(value, str):
        raise ValueError(f"must be {FORMS}")
    text = value.strip()
    day_match = _DAY.match(text)
    if day_match:
        try:
            day = date(int(day_match[1]), int(day_match[2]), int(day_match[3]))
        except ValueError as error:
            raise ValueError(f"{text!r} is not a calendar date ({error})") from None
        zone = day_match[4]
        offset = timezone.utc if zone in (None, "Z") else _offset(zone)
        return _on(day, offset, text)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not {FORMS}") from None
    return _at(moment, text)


def _offset(zone: str) -> timezone:
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{zone!r} is not a UTC offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _at(moment: datetime, text: str) -> Published:
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone, e.g. 2026-02-02T14:30:00Z; or give only the day, 2026-02-02")
    problem = time_problem(moment)
    if problem:
        raise ValueError(f"{text!r} {problem}")
    return Published(moment.astimezone(timezone.utc))


def _on(day: date, offset: timezone, text: str) -> Published:
    try:
        return Published(end_of_day(day, offset), day)
    except OverflowError:
        raise ValueError(f"{text!r} ends after the last time this service can keep (9999-12-31T23:59:59Z)") from None


def published_text(value: str | date | datetime) -> str:
    """Normalised for storage in event data: a pydantic validator (ValueError on bad input)."""
    return parse_published(value).text()
