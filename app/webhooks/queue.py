"""The delivery queue: per-subscription checkpoints into the log, and the deliveries not made yet.

One interface, `DeliveryQueue`; one implementation per backend, `SqliteQueue` (queue_sqlite.py)
and `PostgresQueue` (queue_postgres.py), sharing the SQL of `SqlQueue` below and differing only
in how concurrent workers are kept apart, which each explains where it does it. `open_queue`
picks one for an engine. Every operation is one short transaction:

- fan out: queue a delivery row for every event after an active subscription's checkpoint that
  matches its filter, and move the checkpoint past them, in one transaction (the events are read
  before it, through the event store): the checkpoint and the queue never disagree, so a crash
  anywhere loses nothing and queues nothing twice. A replay only moves the checkpoint back.
- lease: take due deliveries, at most one per (subscription, incident) and at most
  `per_subscription` per subscription, and mark them leased for `lease_time`. A worker that dies
  mid-delivery leaves its rows leased; once the lease lapses any worker takes them again, so a
  receiver may see an event twice (at least once), never zero times.
- record: write what the retry decision said for each finished attempt (delete a delivered row,
  reschedule a failed one, disable a subscription), with one log row per attempt.

Ordering. A delivery is eligible only while no older row of its (subscription, incident) is
queued, and a row leaves the queue only when delivered. So event n+1 of an incident is never
sent before event n has been acknowledged: a receiver sees each incident's events in version
order (a redelivery after a crash repeats the last event, it never goes back further). Different
incidents and different subscriptions do not wait for each other.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from app.db import utcnow
from app.store import EventStore, StoredEvent
from app.webhooks.model import Job, Outcome
from app.webhooks.retry import Delivered, Disable, Retry
from app.webhooks.subscriptions import signing_secrets
from app.webhooks.tables import webhook_attempts, webhook_deliveries, webhook_subscriptions

__all__ = ["DeliveryQueue", "FanOutPlan", "SqlQueue", "open_queue"]

logger = logging.getLogger("timeline.webhooks")

subs = webhook_subscriptions
deliveries = webhook_deliveries
QUEUE_WINDOW = 1000  # deliveries queued per subscription at most (see plan_fan_out)
FAN_OUT_PAGE = 5000  # positions considered per subscription per fan-out


@dataclass(frozen=True, slots=True)
class FanOutPlan:
    """One subscription's fan-out, read before the write transaction that applies it."""

    subscription_id: str
    checkpoint: int  # as read: the plan is written only if the checkpoint is still this
    incidents: list[str] | None  # the filter as read: likewise
    types: list[str] | None
    events: tuple[StoredEvent, ...]  # the matching events in (checkpoint, upto], to queue
    upto: int  # the new checkpoint
    behind: bool  # stopped short of the head by the page size: fan out again at once


class DeliveryQueue(ABC):
    """What the worker needs from the queue; see the module docstring."""

    def fan_out(self) -> bool:
        """Queue what the log holds for each active subscription; False if one is still behind (go on at once)."""
        plans = self.plan_fan_out()
        written = self.write_fan_out(plans)
        return written and not any(plan.behind for plan in plans)

    @abstractmethod
    def plan_fan_out(self) -> list[FanOutPlan]:
        """Read (no lock) what fanning out would queue for each active subscription behind the head."""

    @abstractmethod
    def write_fan_out(self, plans: Sequence[FanOutPlan]) -> bool:
        """Apply the plans whose subscription is unchanged since; False if one had changed (plan again)."""

    @abstractmethod
    def lease(self, n: int, busy: Mapping[str, int], now: datetime) -> list[Job]:
        """Lease up to `n` due deliveries; `busy` counts this worker's attempts in flight per subscription."""

    @abstractmethod
    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the decided outcomes of finished attempts: the queue, the log, any disabling."""

    @abstractmethod
    def next_due(self, now: datetime) -> datetime | None:
        """When a queued retry next falls due or a lease next lapses, if ever."""


class SqlQueue(DeliveryQueue):
    """The queue on the webhook tables; subclasses say how concurrent workers are kept apart."""

    def __init__(
        self,
        engine: Engine,
        store: EventStore,
        *,
        lease_time: timedelta,
        per_subscription: int,
        window: int = QUEUE_WINDOW,
        page: int = FAN_OUT_PAGE,
    ):
        self.engine = engine
        self.store = store  # the log is read through the store, never from its tables
        self.lease_time = lease_time
        self.per_subscription = max(1, per_subscription)
        self.window = window
        self.page = page
        self._lease_statements()

    # -- the backend's seam ----------------------------------------------------------------

    @abstractmethod
    def _write(self) -> AbstractContextManager[Connection]:
        """A write transaction, committed when the block ends."""

    @abstractmethod
    def _lock_for_fan_out(self, query: sa.Select) -> sa.Select:
        """The subscription rows a fan-out is about to advance."""

    @abstractmethod
    def _lock_for_lease(self, query: sa.Select) -> sa.Select:
        """The delivery rows a lease is about to mark."""

    @abstractmethod
    def _lock_for_record(self, query: sa.Select) -> sa.Select:
        """The subscription rows whose outcomes are about to be written."""

    @abstractmethod
    def _insert_new(self) -> sa.Insert:
        """An INSERT into webhook_deliveries that skips a (subscription, position) already queued."""

    # -- fan out ---------------------------------------------------------------------------

    def plan_fan_out(self) -> list[FanOutPlan]:
        # The head is read first. Appends are serialized and publish the new head in the same
        # commit as their events, so every event at or below it is committed, and visible to the
        # reads below (they start later): a checkpoint moved up to it skips nothing, and a later
        # append gets a higher position and is picked up next time.
        head = self.store.head_position()
        with self.engine.connect() as conn:
            behind = conn.execute(
                sa.select(subs.c.id, subs.c.checkpoint, subs.c.incidents, subs.c.types)
                .where(subs.c.status == "active", subs.c.checkpoint < head)
                .order_by(subs.c.id)
            ).all()
            if not behind:
                return []  # the common idle case: two reads, no write transaction
            queued: dict[str, int] = dict(
                conn.execute(
                    sa.select(deliveries.c.subscription_id, sa.func.count())
                    .where(deliveries.c.subscription_id.in_([row.id for row in behind]))
                    .group_by(deliveries.c.subscription_id)
                ).all()
            )
        plans = []
        for row in behind:
            # Backpressure: at most `window` deliveries queued per subscription. The log keeps
            # the rest (the checkpoint marks where), so nothing is lost, and the queue that every
            # lease scans stays small even behind a receiver that has been down for days.
            room = self.window - queued.get(row.id, 0)
            if room <= 0:
                continue
            upto = min(head, row.checkpoint + self.page)
            found = self.store.read_all(
                after_position=row.checkpoint,
                up_to_position=upto,
                incident_ids=row.incidents,
                types=row.types,
                limit=room,
            )
            full = len(found) == room and found[-1].position < upto
            if full:
                upto = found[-1].position  # the checkpoint stops at the last event queued
            plans.append(
                FanOutPlan(
                    row.id, row.checkpoint, row.incidents, row.types, tuple(found), upto, upto < head and not full
                )
            )
        return plans

    def write_fan_out(self, plans: Sequence[FanOutPlan]) -> bool:
        if not plans:
            return True
        planned = {plan.subscription_id: plan for plan in plans}
        now = utcnow()
        unchanged = True
        with self._write() as conn:
            current = conn.execute(
                self._lock_for_fan_out(
                    sa.select(subs.c.id, subs.c.status, subs.c.checkpoint, subs.c.incidents, subs.c.types)
                    .where(subs.c.id.in_(list(planned)))
                    .order_by(subs.c.id)
                )
            ).all()
            for row in current:
                plan = planned[row.id]
                # Re-read under the lock: a plan is applied only to the subscription it was read
                # from. If another worker fanned it out meanwhile, a replay moved its checkpoint,
                # or it was paused or refiltered, the plan is dropped and the next turn plans
                # afresh: nothing is queued twice, and a moved-back checkpoint is not overwritten.
                if (row.status, row.checkpoint, row.incidents, row.types) != (
                    "active",
                    plan.checkpoint,
                    plan.incidents,
                    plan.types,
                ):
                    unchanged = False
                    continue
                if plan.events:
                    # After a replay moved the checkpoint back, some of these events may still be
                    # queued: the insert skips them (the unique constraint would refuse them).
                    conn.execute(
                        self._insert_new(),
                        [
                            {
                                "subscription_id": row.id,
                                "position": event.position,
                                "incident_id": event.incident_id,
                                "event_id": event.event_id,
                                "attempts": 0,
                                "failures": 0,
                                "next_attempt_at": now,
                                "created_at": now,
                            }
                            for event in plan.events
                        ],
                    )
                # In the same transaction as the rows it stands for: a crash leaves both or neither.
                self._advance(conn, row.id, plan.upto)
        return unchanged

    def _advance(self, conn: Connection, subscription_id: str, checkpoint: int) -> None:
        conn.execute(sa.update(subs).where(subs.c.id == subscription_id).values(checkpoint=checkpoint))

    # -- lease -----------------------------------------------------------------------------

    def _lease_statements(self) -> None:
        """The lease queries, built once (bind parameters only), so each lease reuses compiled SQL."""
        d = deliveries
        now = sa.bindparam("now", type_=d.c.next_attempt_at.type)
        ids: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)
        due = sa.and_(d.c.next_attempt_at <= now, sa.or_(d.c.leased_until.is_(None), d.c.leased_until < now))
        # The head of each (subscription, incident) queue: its oldest queued row (an index-only
        # scan of (subscription_id, incident_id, position)). Only heads are candidates, so a
        # head that is leased (in flight here or elsewhere) or waiting for its retry keeps every
        # later event of its incident back: that is the per-incident order.
        heads = (
            sa.select(d.c.subscription_id, sa.func.min(d.c.position).label("position"))
            .join(subs, subs.c.id == d.c.subscription_id)
            .where(subs.c.status == "active")
            .group_by(d.c.subscription_id, d.c.incident_id)
            .subquery("heads")
        )
        eligible = (
            sa.select(
                d.c.id,
                d.c.subscription_id,
                d.c.position,
                sa.func.row_number().over(partition_by=d.c.subscription_id, order_by=d.c.position).label("rank"),
            )
            .join(heads, sa.and_(heads.c.subscription_id == d.c.subscription_id, heads.c.position == d.c.position))
            .where(due)
            .subquery("eligible")
        )
        # Ranking by rank first takes one delivery from every subscription before a second from
        # any, so a big backlog on one subscription does not crowd out the others.
        self._candidate_query = (
            sa.select(eligible.c.id, eligible.c.subscription_id)
            .where(eligible.c.rank <= self.per_subscription)
            .order_by(eligible.c.rank, eligible.c.position)
        )
        # The subscription's status is read again here, in the write transaction: a candidate
        # read just before its subscription was paused (its key revoked, say) is not leased
        # after it. `due` is re-checked too: another worker may have leased the row since.
        still_active = d.c.subscription_id.in_(sa.select(subs.c.id).where(subs.c.status == "active"))
        self._claim_query = self._lock_for_lease(sa.select(d.c.id).where(d.c.id.in_(ids), due, still_active))
        self._mark = (
            sa.update(d)
            .where(d.c.id.in_(ids))
            .values(leased_until=sa.bindparam("until", type_=d.c.leased_until.type), lease_token=sa.bindparam("token"))
        )
        self._leased = (
            sa.select(d, subs.c.url)
            .join(subs, subs.c.id == d.c.subscription_id)
            .where(d.c.id.in_(ids))
            .order_by(d.c.position)
        )

    def lease(self, n: int, busy: Mapping[str, int], now: datetime) -> list[Job]:
        if n <= 0:
            return []
        # One hanging receiver holds at most its own `per_subscription` slots: a subscription's
        # share is what this worker does not already have in flight for it.
        taken: dict[str, int] = {}
        chosen: list[int] = []
        for delivery_id, subscription_id in self._candidates(now):
            if len(chosen) == n:
                break
            if busy.get(subscription_id, 0) + taken.get(subscription_id, 0) < self.per_subscription:
                taken[subscription_id] = taken.get(subscription_id, 0) + 1
                chosen.append(delivery_id)
        if not chosen:
            return []
        rows, secrets = self._claim(chosen, now)
        if not rows:
            return []
        # Read after the lease committed, outside its transaction: events never change. Should
        # this read fail, the leases lapse and the deliveries are taken again.
        events = {event.position: event for event in self.store.read_positions({row.position for row in rows})}
        return [
            Job(
                delivery_id=row.id,
                lease_token=row.lease_token,
                subscription_id=row.subscription_id,
                url=row.url,
                event=events[row.position],
                attempt=row.attempts + 1,
                failures=row.failures,
                first_failed_at=row.first_failed_at,
                secrets=tuple(secrets[row.subscription_id]),
            )
            for row in rows
        ]

    def _candidates(self, now: datetime) -> list[tuple[int, str]]:
        """Eligible deliveries, best first. Read without the write lock: when nothing is due (the
        idle case) no write transaction is opened; `_claim` re-checks each candidate."""
        with self.engine.connect() as conn:
            return [(row.id, row.subscription_id) for row in conn.execute(self._candidate_query, {"now": now})]

    def _claim(self, chosen: Sequence[int], now: datetime) -> tuple[Sequence[Row], dict[str, list[str]]]:
        token = str(uuid.uuid4())
        with self._write() as conn:
            ids = conn.execute(self._claim_query, {"now": now, "ids": list(chosen)}).scalars().all()
            if not ids:
                return [], {}
            conn.execute(self._mark, {"ids": ids, "until": now + self.lease_time, "token": token})
            rows = conn.execute(self._leased, {"ids": ids}).all()
            return rows, signing_secrets(conn, {row.subscription_id for row in rows}, now)

    def next_due(self, now: datetime) -> datetime | None:
        d = deliveries
        with self.engine.connect() as conn:
            soonest = conn.execute(
                sa.select(
                    sa.select(sa.func.min(d.c.next_attempt_at)).where(d.c.next_attempt_at > now).scalar_subquery(),
                    sa.select(sa.func.min(d.c.leased_until)).where(d.c.leased_until > now).scalar_subquery(),
                )
            ).one()
        moments = [moment for moment in soonest if moment is not None]
        return min(moments) if moments else None

    # -- record ----------------------------------------------------------------------------

    def record(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes:
            return
        d = deliveries
        with self._write() as conn:
            status: dict[str, str] = dict(
                conn.execute(
                    self._lock_for_record(
                        sa.select(subs.c.id, subs.c.status)
                        .where(subs.c.id.in_({outcome.job.subscription_id for outcome in outcomes}))
                        .order_by(subs.c.id)
                    )
                ).all()
            )
            delivered = []
            log_rows = []
            for job, sent, decision in ((o.job, o.sent, o.decision) for o in outcomes):
                if job.subscription_id not in status:
                    continue  # deleted meanwhile: its queue and log went with it
                next_attempt_at = None
                if isinstance(decision, Delivered):
                    delivered.append({"delivery": job.delivery_id, "token": job.lease_token})
                else:
                    # A disabled subscription's delivery is due at once when it is re-enabled.
                    due = decision.at if isinstance(decision, Retry) else sent.attempted_at
                    # Only the lease holder's row is written: if the lease lapsed and another
                    # worker took it (this one was too slow), the row is theirs now.
                    updated = conn.execute(
                        sa.update(d)
                        .where(d.c.id == job.delivery_id, d.c.lease_token == job.lease_token)
                        .values(
                            attempts=job.attempt,
                            failures=decision.failures,
                            first_failed_at=decision.failing_since,
                            next_attempt_at=due,
                            leased_until=None,
                            lease_token=None,
                        )
                    )
                    if updated.rowcount == 0:
                        logger.info("delivery %s was taken over by another worker", job.delivery_id)
                    if isinstance(decision, Disable) and status[job.subscription_id] == "active":
                        conn.execute(
                            sa.update(subs)
                            .where(subs.c.id == job.subscription_id)
                            .values(status="disabled", disabled_reason=decision.reason, disabled_at=sent.attempted_at)
                        )
                        status[job.subscription_id] = "disabled"
                        logger.warning("webhook subscription %s disabled: %s", job.subscription_id, decision.reason)
                    if isinstance(decision, Retry) and status[job.subscription_id] == "active":
                        next_attempt_at = decision.at  # otherwise not retried until re-enabled
                log_rows.append(
                    {
                        "subscription_id": job.subscription_id,
                        "event_id": job.event_id,
                        "position": job.position,
                        "incident_id": job.incident_id,
                        "attempt": job.attempt,
                        "status_code": sent.status_code,
                        "error": sent.error,
                        "response_body": sent.response_body,
                        "latency_ms": round(sent.latency_ms, 3),
                        "attempted_at": sent.attempted_at,
                        "next_attempt_at": next_attempt_at,
                    }
                )
            if delivered:
                # Only the lease holder's row goes: a taken-over row stays with its new holder.
                # A duplicate delivery, never a loss.
                conn.execute(
                    sa.delete(d).where(d.c.id == sa.bindparam("delivery"), d.c.lease_token == sa.bindparam("token")),
                    delivered,
                )
            if log_rows:
                conn.execute(sa.insert(webhook_attempts), log_rows)


def open_queue(
    engine: Engine,
    store: EventStore,
    *,
    lease_time: timedelta,
    per_subscription: int,
    window: int = QUEUE_WINDOW,
) -> SqlQueue:
    """The queue for this engine's backend."""
    if engine.dialect.name == "postgresql":
        from app.webhooks.queue_postgres import PostgresQueue

        return PostgresQueue(engine, store, lease_time=lease_time, per_subscription=per_subscription, window=window)
    from app.webhooks.queue_sqlite import SqliteQueue

    return SqliteQueue(engine, store, lease_time=lease_time, per_subscription=per_subscription, window=window)
