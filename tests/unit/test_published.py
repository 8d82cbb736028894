"""Publication times as reports give them: a day stays a day, and counts as public from its end."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.published import Published, end_of_day, parse_published


@pytest.mark.parametrize(
    ("given_text", "moment", "day", "text"),
    [
        ("2026-02-02", "2026-02-02T23:59:59.999999+00:00", date(2026, 2, 2), "2026-02-02"),
        ("2026-02-02Z", "2026-02-02T23:59:59.999999+00:00", date(2026, 2, 2), "2026-02-02"),
        ("2026-02-02-06:00", "2026-02-03T05:59:59.999999+00:00", date(2026, 2, 2), "2026-02-02-06:00"),
        ("2026-02-02+05:30", "2026-02-02T18:29:59.999999+00:00", date(2026, 2, 2), "2026-02-02+05:30"),
        ("2026-02-02T14:30:00Z", "2026-02-02T14:30:00+00:00", None, "2026-02-02T14:30:00Z"),
        ("2026-02-02T08:30:00-06:00", "2026-02-02T14:30:00+00:00", None, "2026-02-02T14:30:00Z"),
    ],
)
def test_a_day_or_a_time(given_text, moment, day, text):
    published = parse_published(given_text)
    assert published.moment == datetime.fromisoformat(moment)
    assert published.day == day
    assert published.precision == ("day" if day else "time")
    assert published.text() == text


@pytest.mark.parametrize(
    ("given_text", "says"),
    [
        ("2026-02-30", "not a calendar date"),
        ("2026-02-02T14:30:00", "needs a time zone"),
        ("Feb 2, 2026", "is not a calendar date"),
        ("9999-12-31-12:00", "ends after"),
        ("0001-01-01T00:00:00+05:00", "outside the times"),
        ("2026-02-02+25:00", "not a UTC offset"),
    ],
)
def test_what_is_not_a_publication_time_says_why(given_text, says):
    with pytest.raises(ValueError, match=says):
        parse_published(given_text)


days = st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@given(days, offsets)
def test_a_day_counts_from_no_earlier_than_its_last_instant(day, offset):
    published = Published(end_of_day(day, offset), day)
    every_instant_of_the_day = (datetime.combine(day, time.min, offset), datetime.combine(day, time.max, offset))
    assert all(instant <= published.moment for instant in every_instant_of_the_day)
    assert parse_published(published.text()) == published, "what leaves the service reads back the same"


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)))
def test_a_time_is_itself(moment):
    published = parse_published(moment.isoformat())
    assert published.moment == moment and published.day is None
    assert parse_published(published.text()) == published
