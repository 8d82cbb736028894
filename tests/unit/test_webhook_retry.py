"""The retry decision: a pure function from one attempt's result to the delivery's next step."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.webhooks.backoff import JITTER, MAX_RETRY_AFTER
from app.webhooks.retry import Delivered, Disable, Retry, RetryPolicy, decide, is_success

NOW = datetime(2026, 1, 27, 9, 0, tzinfo=timezone.utc)
POLICY = RetryPolicy(schedule=(5.0, 300.0, 1800.0), disable_after=timedelta(days=5))


def step(status, *, failures=0, failing_since=None, now=NOW, retry_after=None, policy=POLICY, draw=0.5):
    return decide(
        status,
        failures=failures,
        failing_since=failing_since,
        now=now,
        retry_after=retry_after,
        policy=policy,
        draw=draw,
    )


@pytest.mark.parametrize(
    ("status", "failures", "failing_since", "retry_after", "draw", "expected"),
    [
        # 2xx, and only 2xx, is delivered, whatever came before.
        (200, 0, None, None, 0.5, Delivered()),
        (204, 7, NOW - timedelta(days=9), None, 0.5, Delivered()),
        (299, 0, None, 30.0, 0.5, Delivered()),
        # A first failure: schedule[0], jittered by the draw; the failure span starts now.
        (500, 0, None, None, 0.5, Retry(NOW + timedelta(seconds=5), 1, NOW)),
        (500, 0, None, None, 0.0, Retry(NOW + timedelta(seconds=4), 1, NOW)),
        (500, 0, None, None, 1.0, Retry(NOW + timedelta(seconds=6), 1, NOW)),
        (None, 0, None, None, 0.5, Retry(NOW + timedelta(seconds=5), 1, NOW)),  # no answer at all
        (307, 0, None, None, 0.5, Retry(NOW + timedelta(seconds=5), 1, NOW)),  # a redirect is a failure
        (404, 0, None, None, 0.5, Retry(NOW + timedelta(seconds=5), 1, NOW)),
        # Later failures: the next step of the schedule, the span's start kept.
        (
            503,
            1,
            NOW - timedelta(seconds=5),
            None,
            0.5,
            Retry(NOW + timedelta(seconds=300), 2, NOW - timedelta(seconds=5)),
        ),
        (
            503,
            2,
            NOW - timedelta(hours=1),
            None,
            0.5,
            Retry(NOW + timedelta(seconds=1800), 3, NOW - timedelta(hours=1)),
        ),
        # Past the end of the schedule its last delay repeats: nothing is parked.
        (
            503,
            3,
            NOW - timedelta(hours=2),
            None,
            0.5,
            Retry(NOW + timedelta(seconds=1800), 4, NOW - timedelta(hours=2)),
        ),
        (
            503,
            40,
            NOW - timedelta(days=4),
            None,
            0.5,
            Retry(NOW + timedelta(seconds=1800), 41, NOW - timedelta(days=4)),
        ),
        # Retry-After wins when it asks for longer than the schedule, up to the cap.
        (429, 0, None, 120.0, 0.5, Retry(NOW + timedelta(seconds=120), 1, NOW)),
        (429, 0, None, 1.0, 0.5, Retry(NOW + timedelta(seconds=5), 1, NOW)),
        (503, 0, None, 10 * MAX_RETRY_AFTER, 0.5, Retry(NOW + timedelta(seconds=MAX_RETRY_AFTER), 1, NOW)),
        # 410 Gone disables at once, whatever the history.
        (410, 0, None, None, 0.5, Disable("the receiver answered 410 Gone on 2026-01-27T09:00:00Z", True, 1, NOW)),
        (
            410,
            5,
            NOW - timedelta(days=9),
            60.0,
            0.5,
            Disable("the receiver answered 410 Gone on 2026-01-27T09:00:00Z", True, 6, NOW - timedelta(days=9)),
        ),
        # Failing for the whole span (or longer) disables; just under it is one more retry.
        (
            500,
            9,
            NOW - timedelta(days=5),
            None,
            0.5,
            Disable(
                "deliveries have been failing since 2026-01-22T09:00:00Z, longer than 432000 s",
                False,
                10,
                NOW - timedelta(days=5),
            ),
        ),
        (
            500,
            9,
            NOW - timedelta(days=5) + timedelta(microseconds=1),
            None,
            0.5,
            Retry(NOW + timedelta(seconds=1800), 10, NOW - timedelta(days=5) + timedelta(microseconds=1)),
        ),
    ],
)
def test_the_next_step(status, failures, failing_since, retry_after, draw, expected):
    assert step(status, failures=failures, failing_since=failing_since, retry_after=retry_after, draw=draw) == expected


def test_a_failure_span_of_zero_disables_on_the_first_failure_but_410_still_says_gone():
    policy = RetryPolicy(schedule=(5.0,), disable_after=timedelta(0))
    assert step(500, policy=policy) == Disable(
        "deliveries have been failing since 2026-01-27T09:00:00Z, longer than 0 s", False, 1, NOW
    )
    assert step(410, policy=policy).gone


@pytest.mark.parametrize(
    ("status", "success"),
    [
        (None, False),
        (199, False),
        (200, True),
        (226, True),
        (299, True),
        (300, False),
        (304, False),
        (410, False),
        (500, False),
    ],
)
def test_only_2xx_is_success(status, success):
    assert is_success(status) is success


# -- properties ------------------------------------------------------------------------------------

failing = st.none() | st.integers(min_value=100, max_value=599).filter(lambda s: not 200 <= s < 300 and s != 410)
schedules = st.lists(st.floats(min_value=0.001, max_value=1e5), min_size=1, max_size=10).map(tuple)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))
draws = st.floats(min_value=0.0, max_value=1.0)
MICROSECOND = timedelta(microseconds=1)


@st.composite
def failures_within_the_span(draw):
    """A failing attempt whose delivery has not yet been failing for the policy's whole span."""
    policy = RetryPolicy(draw(schedules), timedelta(seconds=draw(st.floats(min_value=1, max_value=1e7))))
    now = draw(moments)
    failures = draw(st.integers(min_value=0, max_value=1000))
    since = None
    if failures:
        age = draw(st.floats(min_value=0, max_value=policy.disable_after.total_seconds(), exclude_max=True))
        since = now - timedelta(seconds=age)
        if now - since >= policy.disable_after:  # rounding to the microsecond reached the end
            since += MICROSECOND
    return policy, now, failures, since


@given(failures_within_the_span(), failing, st.none() | st.floats(min_value=0, max_value=MAX_RETRY_AFTER), draws)
def test_a_retry_is_never_before_now_nor_before_a_retry_after_within_bounds(case, status, retry_after, draw):
    policy, now, failures, since = case
    decision = decide(
        status, failures=failures, failing_since=since, now=now, retry_after=retry_after, policy=policy, draw=draw
    )
    assert isinstance(decision, Retry)
    assert decision.at > now
    if retry_after is not None:
        assert decision.at >= now + timedelta(seconds=retry_after)
    assert decision.failures == failures + 1
    assert decision.failing_since == (since or now)


@given(failures_within_the_span(), failing, draws)
def test_without_retry_after_the_jitter_stays_within_twenty_percent(case, status, draw):
    policy, now, failures, since = case
    decision = decide(
        status, failures=failures, failing_since=since, now=now, retry_after=None, policy=policy, draw=draw
    )
    base = timedelta(seconds=policy.schedule[min(failures + 1, len(policy.schedule)) - 1])
    assert isinstance(decision, Retry)
    assert base * (1 - JITTER) - MICROSECOND <= decision.at - now <= base * (1 + JITTER) + MICROSECOND


@given(failures_within_the_span(), failing, st.floats(min_value=-1e12, max_value=1e12), draws)
def test_retry_after_never_pushes_a_retry_past_the_cap(case, status, retry_after, draw):
    policy, now, failures, since = case
    decision = decide(
        status, failures=failures, failing_since=since, now=now, retry_after=retry_after, policy=policy, draw=draw
    )
    base = policy.schedule[min(failures + 1, len(policy.schedule)) - 1]
    assert isinstance(decision, Retry)
    assert decision.at - now <= timedelta(seconds=max(base * (1 + JITTER), MAX_RETRY_AFTER)) + MICROSECOND


@given(
    st.none() | st.integers(min_value=100, max_value=599),
    st.integers(min_value=0, max_value=100),
    st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    moments,
    st.none() | st.floats(min_value=0, max_value=1e6),
    draws,
)
def test_the_kind_of_step_follows_from_the_status_and_the_span(status, failures, age, now, retry_after, draw):
    since = None if age is None else now - age
    decision = step(status, failures=failures, failing_since=since, now=now, retry_after=retry_after, draw=draw)
    again = step(status, failures=failures, failing_since=since, now=now, retry_after=retry_after, draw=draw)
    assert decision == again  # the same inputs, the same step: nothing else is consulted
    if status is not None and 200 <= status < 300:
        assert decision == Delivered()
    elif status == 410:
        assert isinstance(decision, Disable) and decision.gone
    elif age is not None and age >= POLICY.disable_after:
        assert isinstance(decision, Disable) and not decision.gone and "failing since" in decision.reason
    else:
        assert isinstance(decision, Retry)
