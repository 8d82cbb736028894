"""The retry decision: what happens to a delivery after one attempt (pure, no I/O).

`decide` turns an attempt's result into the next step; the delivery queue's `record` only writes
what it says. The decision is made in the worker, outside any transaction.

- 2xx: `Delivered` (only 2xx is success: a redirect is not followed and is a failure);
- 410 Gone: `Disable` with `gone=True` (the receiver asked to stop);
- any other failure (no answer, a timeout, a refused destination, 3xx, 4xx, 5xx): `Retry` at the
  schedule's jittered delay, or later if Retry-After asks for it; or `Disable` once the delivery
  has been failing for `disable_after` (endless failure disables). A disabled subscription keeps
  its queued deliveries: re-enabled, it gets them all, in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.webhooks.backoff import next_delay

__all__ = ["Decision", "Delivered", "Disable", "Retry", "RetryPolicy", "decide", "is_success"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    schedule: tuple[float, ...]  # seconds after failure 1, 2, ...; the last one repeats
    disable_after: timedelta  # a delivery failing this long disables its subscription


@dataclass(frozen=True, slots=True)
class Delivered:
    """The receiver took the event: the delivery leaves the queue."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again at `at`."""

    at: datetime
    failures: int  # counted by the schedule, this failure included
    failing_since: datetime  # the first of them


@dataclass(frozen=True, slots=True)
class Disable:
    """Stop the subscription until it is re-enabled; the delivery stays queued, due at once then."""

    reason: str
    gone: bool  # the receiver answered 410; otherwise it has been failing for too long
    failures: int
    failing_since: datetime


Decision = Delivered | Retry | Disable


def is_success(status_code: int | None) -> bool:
    # The status line decides: a receiver that said 2xx has taken the event, even if the rest
    # of its response then failed to arrive (that error is still logged with the attempt).
    return status_code is not None and 200 <= status_code < 300


def decide(
    status_code: int | None,
    *,
    failures: int,
    failing_since: datetime | None,
    now: datetime,
    retry_after: float | None,
    policy: RetryPolicy,
    draw: float,
) -> Decision:
    """The next step for a delivery whose attempt at `now` got `status_code` (None: no answer).

    `failures` and `failing_since` are the delivery's before this attempt; `retry_after` is the
    seconds after `now` the receiver asked to wait (None if it did not); `draw` is a uniform draw
    from [0, 1] that places the delay in its jitter band.
    """
    if is_success(status_code):
        return Delivered()
    first = failing_since or now
    count = failures + 1
    if status_code == 410:
        return Disable(f"the receiver answered 410 Gone on {_moment(now)}", True, count, first)
    if now - first >= policy.disable_after:
        reason = (
            f"deliveries have been failing since {_moment(first)}, longer than "
            f"{policy.disable_after.total_seconds():g} s"
        )
        return Disable(reason, False, count, first)
    delay = next_delay(count, policy.schedule, retry_after=retry_after, draw=draw)
    # Rounded up to the microsecond a datetime holds: never a moment before what was asked.
    return Retry(now + timedelta(microseconds=math.ceil(delay * 1e6)), count, first)


def _moment(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")
