"""Retry timing: schedule parsing, jittered delays, Retry-After."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.webhooks.backoff import (
    DEFAULT_SCHEDULE,
    JITTER,
    MAX_RETRY_AFTER,
    next_delay,
    parse_retry_after,
    parse_schedule,
)

NOW = datetime(2026, 1, 27, 9, 0, tzinfo=timezone.utc)


def test_default_schedule():
    assert parse_schedule(DEFAULT_SCHEDULE) == (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)


def test_fractions_and_spaces():
    assert parse_schedule(" 0.5, 2 ,10") == (0.5, 2.0, 10.0)


@pytest.mark.parametrize("text", ["", "  ", "5,,6", "5,", "5,-1", "0", "5,abc", "nan", "inf", "1e999"])
def test_bad_schedules_are_refused_clearly(text):
    with pytest.raises(ValueError, match="retry schedule"):
        parse_schedule(text)


def test_past_the_end_of_the_schedule_its_last_delay_repeats():
    # Nothing is parked or dropped by the schedule: the failure span ends the retries (retry.decide).
    schedule = (5.0, 300.0)
    assert next_delay(2, schedule, retry_after=None, draw=0.5) == 300.0
    assert next_delay(3, schedule, retry_after=None, draw=0.5) == 300.0
    assert next_delay(50, schedule, retry_after=None, draw=0.0) == 240.0
    assert next_delay(3, schedule, retry_after=1000.0, draw=0.5) == 1000.0


def test_failures_count_from_one():
    with pytest.raises(ValueError):
        next_delay(0, (5.0,), retry_after=None, draw=0.5)


def test_a_draw_outside_the_unit_interval_is_refused():
    for draw in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError):
            next_delay(1, (5.0,), retry_after=None, draw=draw)


def test_the_draw_places_the_delay_in_the_jitter_band():
    assert next_delay(1, (100.0,), retry_after=None, draw=0.0) == pytest.approx(80.0)
    assert next_delay(1, (100.0,), retry_after=None, draw=0.5) == pytest.approx(100.0)
    assert next_delay(1, (100.0,), retry_after=None, draw=1.0) == pytest.approx(120.0)


def test_jitter_actually_spreads_delays():
    rng = random.Random(7)
    delays = {next_delay(1, (100.0,), retry_after=None, draw=rng.random()) for _ in range(50)}
    assert len(delays) > 40


schedules = st.lists(st.floats(min_value=0.001, max_value=1e6), min_size=1, max_size=12).map(tuple)
draws = st.floats(min_value=0.0, max_value=1.0)


@given(schedules, st.data(), draws)
def test_delays_stay_within_the_jitter_band(schedule, data, draw):
    failure = data.draw(st.integers(min_value=1, max_value=len(schedule)))
    delay = next_delay(failure, schedule, retry_after=None, draw=draw)
    base = schedule[failure - 1]
    assert base * (1 - JITTER) <= delay <= base * (1 + JITTER)
    assert delay > 0


@given(
    schedules,
    st.data(),
    draws,
    st.floats(min_value=-1e9, max_value=1e12) | st.just(math.inf),
)
def test_a_longer_retry_after_wins_up_to_the_cap(schedule, data, draw, retry_after):
    failure = data.draw(st.integers(min_value=1, max_value=len(schedule)))
    delay = next_delay(failure, schedule, retry_after=retry_after, draw=draw)
    base = schedule[failure - 1]
    assert delay >= 0
    assert delay >= base * (1 - JITTER)
    assert delay >= min(retry_after, MAX_RETRY_AFTER)
    assert delay <= max(base * (1 + JITTER), MAX_RETRY_AFTER)


@given(schedules, st.integers(min_value=1, max_value=100), draws)
def test_past_the_schedule_the_last_step_repeats(schedule, extra, draw):
    delay = next_delay(len(schedule) + extra, schedule, retry_after=None, draw=draw)
    assert delay == next_delay(len(schedule), schedule, retry_after=None, draw=draw)
    assert schedule[-1] * (1 - JITTER) <= delay <= schedule[-1] * (1 + JITTER)


def test_nan_retry_after_is_ignored():
    delay = next_delay(1, (10.0,), retry_after=math.nan, draw=random.Random(3).random())
    assert 8.0 <= delay <= 12.0


# --- Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Tue, 27 Jan 2026 09:02:00 GMT", 120.0),  # IMF-fixdate
        ("Tuesday, 27-Jan-26 09:00:30 GMT", 30.0),  # RFC 850
        ("Tue Jan 27 09:01:00 2026", 60.0),  # asctime
        ("Mon, 26 Jan 2026 09:00:00 GMT", 0.0),  # in the past
        ("-5", None),
        ("", None),
        ("soon", None),
        ("12 seconds", None),
        ("Tue, 99 Foo 2026 09:02:00 GMT", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


def test_an_enormous_delta_is_capped_not_dropped():
    assert parse_retry_after("9" * 400, NOW) == MAX_RETRY_AFTER


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse_retry_after("5", datetime(2026, 1, 27, 9, 0))


@given(st.integers(min_value=0, max_value=10**12))
def test_delta_seconds_round_trip(seconds):
    assert parse_retry_after(str(seconds), NOW) == float(seconds)


@given(st.integers(min_value=-(10**7), max_value=10**8))
def test_http_dates_round_trip(offset):
    when = NOW + timedelta(seconds=offset)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == max(0.0, float(offset))
