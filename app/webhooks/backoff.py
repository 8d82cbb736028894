"""Retry timing for webhook deliveries: a schedule, jitter, and Retry-After (pure, no I/O).

A failed delivery waits the schedule's delay for its failure count; past the end of the schedule
the last delay repeats. A delivery is never dropped or parked by the schedule: what ends the
retries is the failure span (`RetryPolicy.disable_after` in app.webhooks.retry), which disables
the subscription and keeps the delivery queued for when it is re-enabled.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_SCHEDULE",
    "JITTER",
    "MAX_RETRY_AFTER",
    "jittered",
    "next_delay",
    "parse_retry_after",
    "parse_schedule",
]

# Seconds after failure 1, 2, ...: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (about
# 3.3 days in all), then every 24 h until the failure span disables the subscription.
DEFAULT_SCHEDULE = "5,300,1800,7200,18000,36000,50400,72000,86400"
JITTER = 0.2  # each delay is drawn uniformly from [0.8 d, 1.2 d]
MAX_RETRY_AFTER = 24 * 3600.0  # a receiver cannot push a retry further out than this


def parse_schedule(text: str) -> tuple[float, ...]:
    """`"5,300,1800"` -> `(5.0, 300.0, 1800.0)`; every entry a positive, finite number of seconds."""
    if not text.strip():
        raise ValueError("the webhook retry schedule needs at least one delay (e.g. '5,300,1800')")
    entries = [part.strip() for part in text.split(",")]
    delays: list[float] = []
    for position, entry in enumerate(entries, start=1):
        try:
            delay = float(entry)
        except ValueError:
            raise ValueError(
                f"webhook retry schedule entry {position} ({entry!r}) is not a number of seconds"
            ) from None
        if not math.isfinite(delay) or delay <= 0:
            raise ValueError(
                f"webhook retry schedule entry {position} ({entry!r}) must be a positive, finite number of seconds"
            )
        delays.append(delay)
    return tuple(delays)


def jittered(base: float, draw: float) -> float:
    """`base` moved within ±JITTER by `draw`, a uniform draw from [0, 1] (0 -> 0.8 base, 1 -> 1.2 base)."""
    if not 0.0 <= draw <= 1.0:
        raise ValueError(f"a jitter draw lies in [0, 1], not {draw!r}")
    low, high = base * (1 - JITTER), base * (1 + JITTER)
    return min(high, low + (high - low) * draw)  # min: no rounding past the band's top


def next_delay(failure: int, schedule: Sequence[float], *, retry_after: float | None, draw: float) -> float:
    """Seconds to wait after a delivery's `failure`-th failure (1-based).

    Failure n waits `schedule[n-1]`, past the end of the schedule its last entry, scaled by
    `jittered` so receivers that failed together do not all come back at once. A `retry_after`
    the receiver asked for wins when it is longer, capped at MAX_RETRY_AFTER.
    """
    if failure < 1:
        raise ValueError(f"failures are counted from 1, not {failure}")
    if not schedule:
        raise ValueError("the retry schedule needs at least one delay")
    delay = jittered(schedule[min(failure, len(schedule)) - 1], draw)
    if retry_after is not None and not math.isnan(retry_after):
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return max(delay, 0.0)


_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds from `now` that a Retry-After header asks for, or None if it is unusable.

    Accepts delta-seconds (`120`; fractions tolerated) and HTTP-dates (IMF-fixdate, RFC 850,
    asctime; all GMT). A date in the past means 0. `now` must be aware.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        # An absurdly long number is still a request to stay away: next_delay caps it anyway.
        return seconds if math.isfinite(seconds) else MAX_RETRY_AFTER
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # asctime carries no zone; HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())
