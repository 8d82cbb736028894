"""The state that crosses the worker's parts: a leased job, what sending it got back, the outcome.

queue.lease -> Job -> sender.send -> Sent -> retry.decide -> Outcome(job, sent, decision) -> queue.record
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.store import StoredEvent
from app.webhooks.retry import Decision


@dataclass(frozen=True, slots=True)
class Job:
    """One leased delivery attempt, with everything needed to send it."""

    delivery_id: int
    lease_token: str  # fences this attempt's result if the lease lapsed and another worker took it
    subscription_id: str
    url: str
    event: StoredEvent
    attempt: int  # the number of this attempt, from 1
    failures: int  # failures so far that count towards the retry schedule
    first_failed_at: datetime | None
    secrets: tuple[str, ...]  # the signing secrets, newest first (two during a rotation's grace period)

    @property
    def position(self) -> int:
        return self.event.position

    @property
    def incident_id(self) -> str:
        return self.event.incident_id

    @property
    def event_id(self) -> str:
        return self.event.event_id


@dataclass(frozen=True, slots=True)
class Sent:
    """What one attempt got back from the receiver (or why it got nothing)."""

    attempted_at: datetime
    latency_ms: float
    status_code: int | None  # None: no response (refused, timed out, connection failed)
    error: str | None
    response_body: str | None  # at most webhook_response_max_bytes of it
    retry_after: float | None  # seconds after attempted_at the receiver asked to wait


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    sent: Sent
    decision: Decision
