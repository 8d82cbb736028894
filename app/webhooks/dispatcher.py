"""The webhook dispatcher: from the global log to signed deliveries, at least once, in order per incident.

One loop per process (inside `timeline serve`, or alone as `timeline worker`), any number of
processes on one database. Each turn of the loop does three short transactions, in this order:

1. record: the outcomes of finished attempts (delete a delivered row, reschedule a failed one,
   disable a subscription that answered 410 or has been failing too long), with one log row
   per attempt;
2. fan out: for each active subscription behind the head of the log, queue a delivery row for
   every matching event after its checkpoint and move the checkpoint past them, in one
   transaction: the checkpoint and the queue can never disagree, so a crash anywhere loses
   nothing and queues nothing twice. At most `queue_window` rows are queued per subscription;
   the log holds the rest until the queue drains (a replay just moves the checkpoint back);
3. lease: take due deliveries, at most one per (subscription, incident) — the oldest queued
   one — and at most `webhook_per_subscription` per subscription, and mark them leased for
   `webhook_lease_seconds`.

Each leased delivery is then sent by its own task, concurrently; a finished task wakes the loop.
A worker that dies mid-delivery leaves its rows leased; once the lease lapses any worker takes
them again, so the receiver may see an event twice (at least once), never zero times.

Ordering. A delivery is eligible only while no older row of the same (subscription, incident) is
queued, and a row leaves the queue only when delivered. So event n+1 of an incident is never
sent before event n has been acknowledged: a receiver sees each incident's events in version
order (a redelivery after a crash repeats the last event, it never goes back further). Different
incidents and different subscriptions do not wait for each other.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.config import Settings
from app.db import create_engine, utcnow, writer
from app.store.store import event_from_row
from app.store.tables import events, log_head
from app.webhooks.backoff import next_delay, parse_retry_after, parse_schedule
from app.webhooks.cloudevent import CONTENT_TYPE, to_cloudevent
from app.webhooks.safety import BlockedDestination, DestinationPolicy, make_client
from app.webhooks.signing import sign_headers
from app.webhooks.subscriptions import matches, signing_secrets
from app.webhooks.tables import webhook_attempts, webhook_deliveries, webhook_subscriptions

logger = logging.getLogger("timeline.webhooks")

subs = webhook_subscriptions
deliveries = webhook_deliveries
FAN_OUT_PAGE = 5000  # positions considered per subscription per transaction
BATCH_WINDOW = 0.005  # seconds a step waits at most for more answers from attempts in flight
BATCH_GAP = 0.001  # ... and at most this long for the next one
MAX_ERROR = 1000


@dataclass(frozen=True, slots=True)
class Job:
    """One leased delivery attempt, with everything needed to send it."""

    delivery_id: int
    lease_token: str
    subscription_id: str
    url: str
    position: int
    incident_id: str
    event_id: str
    attempt: int  # the number of this attempt, from 1
    failures: int  # failures so far that count towards the retry schedule
    first_failed_at: datetime | None
    secrets: tuple[str, ...]
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    attempted_at: datetime
    latency_ms: float
    status_code: int | None
    error: str | None
    response_body: str | None
    retry_after: float | None

    @property
    def delivered(self) -> bool:
        # Only 2xx is success: a redirect is not followed and counts as a failure. The status
        # line decides: a receiver that said 2xx has taken the event, even if the rest of its
        # response then failed to arrive (that error is still logged with the attempt).
        return self.status_code is not None and 200 <= self.status_code < 300


class Dispatcher:
    """Fan out, lease, deliver and record, until `stop()`; see the module docstring."""

    queue_window = 1000  # deliveries queued per subscription at most (see fan_out)

    def __init__(
        self,
        engine: Engine | str,
        settings: Settings,
        *,
        signal=None,
        client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ):
        # The dispatcher's own engine, with durability="fast" (SQLite synchronous=NORMAL,
        # PostgreSQL synchronous_commit=off): its writes are bookkeeping that a power cut may
        # roll back without breaking a guarantee. A lost "delivered" is a redelivery (at least
        # once), a lost fan-out loses its checkpoint move too and is redone, a lost lease or
        # retry time is taken again. Appends and the subscriptions API keep full durability;
        # this only spares the delivery path an fsync per step.
        url = engine if isinstance(engine, str) else engine.url.render_as_string(hide_password=False)
        self.engine = create_engine(url, durability="fast")
        self.settings = settings
        self.schedule = parse_schedule(settings.webhook_retry_schedule)
        self.policy = DestinationPolicy.from_env(settings.webhook_allow_networks, settings.webhook_allow_http)
        self.timeout = float(settings.webhook_timeout_seconds)
        if settings.webhook_lease_seconds <= self.timeout:
            raise ValueError(
                f"the webhook lease ({settings.webhook_lease_seconds:g} s) must be longer than the request "
                f"timeout ({self.timeout:g} s), or a slow delivery would be taken over while still running"
            )
        self.lease_time = timedelta(seconds=settings.webhook_lease_seconds)
        self.disable_after = timedelta(seconds=settings.webhook_disable_after_seconds)
        self.per_subscription = max(1, settings.webhook_per_subscription)
        self.concurrency = max(1, settings.webhook_concurrency)
        self.poll = settings.webhook_poll_seconds
        self.max_body = settings.webhook_response_max_bytes
        self.source = settings.webhook_source
        self._signal = signal  # app.notify.AppendSignal: in-process appends wake us at once
        self._client = client
        self._rng = rng or random.Random()
        self._postgres = self.engine.dialect.name == "postgresql"
        self._busy: dict[str, int] = {}  # subscription id -> attempts in flight in this process
        self._tasks: set[asyncio.Task] = set()
        self._outcomes: list[Outcome] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._lease_statements()

    # -- running -------------------------------------------------------------------------

    def start(self) -> asyncio.Task:
        """Run in the current event loop as a background task."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name="webhook-dispatcher")
        self._task.add_done_callback(_log_crash)
        return self._task

    async def stop(self) -> None:
        """Stop leasing, let attempts in flight finish (each is bounded by the timeout), record them."""
        self._stopping = True
        self.poke()
        if self._task is not None:
            await asyncio.wait([self._task])

    def request_stop(self) -> None:
        """`stop()` without waiting, for signal handlers."""
        self._stopping = True
        self.poke()

    def poke(self) -> None:
        """Look for work now (thread-safe): after a replay, a re-enable, an append in this process."""
        if self._loop is not None and self._wake is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop has closed
                pass

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        own_client = self._client is None
        client = self._client or make_client(self.policy, timeout=self.timeout)
        watcher = self._loop.create_task(self._watch_appends()) if self._signal is not None else None
        logger.info("webhook dispatcher started")
        graceful = False
        try:
            while not self._stopping:
                # Cleared before the step, so a wake-up that arrives during it (an append, a
                # finished attempt) makes the wait below return at once: nothing is missed.
                self._wake.clear()
                outcomes, self._outcomes = self._outcomes, []
                free = self.concurrency - len(self._tasks)
                try:
                    jobs, due_in = await asyncio.to_thread(self._step, outcomes, dict(self._busy), free)
                except Exception:
                    logger.exception("could not record webhook outcomes; retrying")
                    # Keep the outcomes: they are recorded on the next turn (if their leases
                    # lapse first, another worker delivers again: at least once).
                    self._outcomes = outcomes + self._outcomes
                    jobs, due_in = [], self.poll
                for job in jobs:
                    self._launch(client, job)
                if self._stopping:
                    break
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, min(self.poll, due_in)))
                except TimeoutError:
                    pass
                await self._gather_outcomes()
            graceful = True
        finally:
            if watcher is not None:
                watcher.cancel()
            if graceful:
                # A graceful stop: attempts in flight finish (bounded by the timeout) and their
                # outcomes are recorded, so nothing is left to a lease lapse.
                if self._tasks:
                    await asyncio.wait(set(self._tasks))
                if self._outcomes:
                    try:
                        await asyncio.to_thread(self.record, self._outcomes)
                    except Exception:
                        logger.exception("could not record the last webhook outcomes; their leases will lapse")
                    self._outcomes = []
            else:
                # Cancelled (or crashed): like a killed process, leave the leases to lapse.
                for task in list(self._tasks):
                    task.cancel()
            if own_client:
                await client.aclose()
            self.engine.dispose()
            logger.info("webhook dispatcher stopped")

    async def _gather_outcomes(self) -> None:
        """Give attempts still in flight a moment to finish, so one step records them together.

        Fast receivers answer within a few milliseconds of each other; recording each answer in
        its own step would cost a transaction apiece. The wait ends as soon as nothing is left in
        flight (a lone delivery, the latency case, never waits), when no answer came for
        BATCH_GAP (so attempts hanging on a slow receiver cost the others at most that), or
        after BATCH_WINDOW in all.
        """
        deadline = self._loop.time() + BATCH_WINDOW
        while self._outcomes and self._tasks:
            left = min(BATCH_GAP, deadline - self._loop.time())
            if left <= 0:
                return
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=left)
            except TimeoutError:
                return

    async def _watch_appends(self) -> None:
        generation = self._signal.generation
        while True:
            seen = generation
            generation = await self._signal.wait(seen, 60.0)
            if generation != seen:
                self._wake.set()

    def _launch(self, client: httpx.AsyncClient, job: Job) -> None:
        self._busy[job.subscription_id] = self._busy.get(job.subscription_id, 0) + 1
        task = asyncio.get_running_loop().create_task(self._deliver(client, job))
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            left = self._busy.get(job.subscription_id, 1) - 1
            if left:
                self._busy[job.subscription_id] = left
            else:
                self._busy.pop(job.subscription_id, None)
            if not finished.cancelled() and finished.exception() is None:
                self._outcomes.append(finished.result())
                self._wake.set()

        task.add_done_callback(done)

    def _step(self, outcomes: list[Outcome], busy: dict[str, int], free: int) -> tuple[list[Job], float]:
        # Record before leasing: a delivered head row must be gone before the next event of
        # its incident can become eligible.
        if outcomes:
            self.record(outcomes)  # if this fails, the caller keeps the outcomes for the next step
        try:
            caught_up = self.fan_out()
            jobs = self.lease(busy, free) if free > 0 else []
            # A fan-out that stopped at its page size goes on at once, not after a poll interval.
            return jobs, (self._seconds_until_due() if caught_up else 0.0)
        except Exception:
            # The database is unreachable, say: nothing was leased, so nothing is lost; try again
            # after a poll interval.
            logger.exception("webhook dispatcher step failed; retrying")
            return [], self.poll

    # -- 2. fan-out ----------------------------------------------------------------------

    def fan_out(self) -> bool:
        """Queue deliveries for events after each active subscription's checkpoint.

        Returns False when a subscription was left behind the head by the page limit (the
        caller goes on at once); a subscription held back by its full queue waits for its
        deliveries instead.
        """
        with self.engine.connect() as conn:
            behind = conn.execute(
                sa.select(sa.func.count())
                .select_from(subs)
                .where(
                    subs.c.status == "active",
                    subs.c.checkpoint < sa.select(log_head.c.position).where(log_head.c.id == 1).scalar_subquery(),
                )
            ).scalar_one()
        if not behind:
            return True  # the common idle case costs one read and no write transaction
        caught_up = True
        now = utcnow()
        d = deliveries
        with writer(self.engine.connect()) as conn, conn.begin():
            # The head read here bounds this transaction's work. Appends are serialized and
            # publish the new head in the same commit as their events, so every event at or
            # below this head is committed and visible to the statements below: the checkpoint
            # can be moved to it without skipping anything (a later append gets a higher
            # position and is picked up next time).
            head = conn.execute(sa.select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
            query = (
                sa.select(subs.c.id, subs.c.checkpoint, subs.c.incidents, subs.c.types)
                .where(subs.c.status == "active", subs.c.checkpoint < head)
                .order_by(subs.c.id)
            )
            if self._postgres:
                # Each subscription is fanned out by one worker at a time: the row lock is held
                # until commit, and a worker that finds it locked skips it (the holder is doing
                # the work). After the lock the row is re-read, so the checkpoint is current.
                query = query.with_for_update(skip_locked=True)
            for row in conn.execute(query).all():
                # Backpressure: at most `queue_window` deliveries queued per subscription. The
                # log keeps the rest (the checkpoint marks where), so nothing is lost, and the
                # queue that every lease scans stays small even behind a receiver that has been
                # down for days.
                room = self.queue_window - conn.execute(
                    sa.select(sa.func.count()).select_from(d).where(d.c.subscription_id == row.id)
                ).scalar_one()
                if room <= 0:
                    continue
                upto = min(head, row.checkpoint + FAN_OUT_PAGE)
                wanted = sa.and_(
                    events.c.position > row.checkpoint, events.c.position <= upto, matches(row.incidents, row.types)
                )
                last_with_room = conn.execute(
                    sa.select(events.c.position).where(wanted).order_by(events.c.position).offset(room - 1).limit(1)
                ).scalar()
                window_full = last_with_room is not None and last_with_room < upto
                if window_full:
                    upto = last_with_room
                    wanted = sa.and_(wanted, events.c.position <= upto)
                # After a replay moved the checkpoint back, some of these events may still be
                # queued: they are not queued twice (and the unique constraint says so too).
                already = sa.exists().where(d.c.subscription_id == row.id, d.c.position == events.c.position)
                chosen = (
                    sa.select(
                        sa.literal(row.id, sa.String(36)),
                        events.c.position,
                        events.c.incident_id,
                        events.c.event_id,
                        sa.literal(0, sa.Integer),
                        sa.literal(0, sa.Integer),
                        sa.literal(now, d.c.next_attempt_at.type),
                        sa.literal(now, d.c.created_at.type),
                    )
                    .where(wanted, ~already)
                    .order_by(events.c.position)
                )
                conn.execute(
                    sa.insert(d).from_select(
                        ["subscription_id", "position", "incident_id", "event_id", "attempts", "failures",
                         "next_attempt_at", "created_at"],
                        chosen,
                    )
                )
                # In the same transaction as the rows it stands for: a crash leaves both or neither.
                conn.execute(sa.update(subs).where(subs.c.id == row.id).values(checkpoint=upto))
                if upto < head and not window_full:
                    caught_up = False
        return caught_up

    # -- 3. lease ------------------------------------------------------------------------

    def _lease_statements(self) -> None:
        """The lease queries, built once (bind parameters only), so each step reuses compiled SQL."""
        d = deliveries
        now = sa.bindparam("now", type_=d.c.next_attempt_at.type)
        ids = sa.bindparam("ids", expanding=True)
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
        self._candidates = (
            sa.select(eligible.c.id, eligible.c.subscription_id)
            .where(eligible.c.rank <= self.per_subscription)
            .order_by(eligible.c.rank, eligible.c.position)
        )
        # The subscription's status is read again here, with the lock: a candidate read just
        # before its subscription was paused (its key revoked, say) is not leased after it.
        still_active = d.c.subscription_id.in_(sa.select(subs.c.id).where(subs.c.status == "active"))
        lock = sa.select(d.c.id).where(d.c.id.in_(ids), due, still_active)
        if self._postgres:
            # Workers share the queue through row locks: a row another worker is leasing right
            # now is skipped, not waited for. Once that worker commits, its lease is visible, and
            # `due` (re-checked on the latest row version once locked) keeps the row out. On
            # SQLite, BEGIN IMMEDIATE serializes whole lease transactions instead.
            lock = lock.with_for_update(skip_locked=True)
        self._lock = lock
        self._mark = (
            sa.update(d)
            .where(d.c.id.in_(ids))
            .values(leased_until=sa.bindparam("until", type_=d.c.leased_until.type), lease_token=sa.bindparam("token"))
        )
        self._leased = (
            sa.select(d, subs.c.url).join(subs, subs.c.id == d.c.subscription_id).where(d.c.id.in_(ids)).order_by(d.c.position)
        )

    def lease(self, busy: dict[str, int], free: int) -> list[Job]:
        """Lease up to `free` due deliveries; at most one per (subscription, incident)."""
        now = utcnow()
        # Candidates are read without the write lock: when nothing is due (the idle case) no
        # write transaction is opened. The lock statement below re-checks each candidate.
        with self.engine.connect() as conn:
            candidates = conn.execute(self._candidates, {"now": now}).all()
        # One hanging receiver holds at most its own `per_subscription` slots: a subscription's
        # share is what this process does not already have in flight for it.
        taken: dict[str, int] = {}
        chosen = []
        for delivery_id, subscription_id in candidates:
            if len(chosen) == free:
                break
            if busy.get(subscription_id, 0) + taken.get(subscription_id, 0) < self.per_subscription:
                taken[subscription_id] = taken.get(subscription_id, 0) + 1
                chosen.append(delivery_id)
        if not chosen:
            return []
        token = str(uuid.uuid4())
        with writer(self.engine.connect()) as conn, conn.begin():
            ids = conn.execute(self._lock, {"now": now, "ids": chosen}).scalars().all()
            if not ids:
                return []
            conn.execute(self._mark, {"ids": ids, "until": now + self.lease_time, "token": token})
            rows = conn.execute(self._leased, {"ids": ids}).all()
            secrets = signing_secrets(conn, {row.subscription_id for row in rows}, now)
            bodies = self._bodies(conn, {row.position for row in rows})
        return [
            Job(
                delivery_id=row.id,
                lease_token=token,
                subscription_id=row.subscription_id,
                url=row.url,
                position=row.position,
                incident_id=row.incident_id,
                event_id=row.event_id,
                attempt=row.attempts + 1,
                failures=row.failures,
                first_failed_at=row.first_failed_at,
                secrets=tuple(secrets[row.subscription_id]),
                body=bodies[row.position],
            )
            for row in rows
        ]

    def _bodies(self, conn: Connection, positions: set[int]) -> dict[int, str]:
        bodies = {}
        for row in conn.execute(sa.select(events).where(events.c.position.in_(list(positions)))):
            event = event_from_row(row)
            bodies[row.position] = to_cloudevent(event.as_dict(), source=self.source)
        return bodies

    def _seconds_until_due(self) -> float:
        """How long until a queued retry falls due or a lease lapses (capped by the poll interval)."""
        now = utcnow()
        d = deliveries
        with self.engine.connect() as conn:
            soonest = conn.execute(
                sa.select(
                    sa.select(sa.func.min(d.c.next_attempt_at)).where(d.c.next_attempt_at > now).scalar_subquery(),
                    sa.select(sa.func.min(d.c.leased_until)).where(d.c.leased_until > now).scalar_subquery(),
                )
            ).one()
        moments = [moment for moment in soonest if moment is not None]
        if not moments:
            return self.poll
        return max(0.0, (min(moments) - now).total_seconds()) + 0.001

    # -- sending -------------------------------------------------------------------------

    async def _deliver(self, client: httpx.AsyncClient, job: Job) -> Outcome:
        attempted_at = utcnow()
        headers = sign_headers(job.event_id, attempted_at, job.body, job.secrets)
        headers["content-type"] = CONTENT_TYPE
        status_code = error = response_body = retry_after = None
        started = time.perf_counter()
        try:
            # The client's timeout bounds each phase (connect, each read); this bounds the
            # whole attempt, so a receiver that trickles bytes cannot hold a slot for long.
            async with asyncio.timeout(self.timeout):
                async with client.stream("POST", job.url, content=job.body.encode(), headers=headers) as response:
                    status_code = response.status_code
                    if "retry-after" in response.headers:
                        retry_after = parse_retry_after(response.headers["retry-after"], utcnow())
                    if 300 <= status_code < 400:
                        error = f"redirects are not followed (Location: {response.headers.get('location', '')})"
                    response_body = await _read_some(response, self.max_body)
        except BlockedDestination as exc:
            error = f"refused by the destination policy: {exc}"
        except TimeoutError:
            error = f"no complete response within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # never let one attempt take the dispatcher down
            logger.exception("unexpected error delivering %s to %s", job.event_id, job.url)
            error = f"unexpected error: {type(exc).__name__}"
        latency_ms = (time.perf_counter() - started) * 1000
        return Outcome(job, attempted_at, latency_ms, status_code, error and error[:MAX_ERROR], response_body, retry_after)

    # -- 1. record -----------------------------------------------------------------------

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write the outcomes of finished attempts: the queue, the log, and any disabling."""
        d, a = deliveries, webhook_attempts
        with writer(self.engine.connect()) as conn, conn.begin():
            # Subscriptions first, in id order, then deliveries: the same lock order as the API
            # and the fan-out (see subscriptions.lock_subscription), so no deadlock cycle.
            locking = (
                sa.select(subs.c.id, subs.c.status)
                .where(subs.c.id.in_({o.job.subscription_id for o in outcomes}))
                .order_by(subs.c.id)
            )
            if self._postgres:
                locking = locking.with_for_update()
            status: dict[str, str] = dict(conn.execute(locking).all())
            delivered = []
            log_rows = []
            for outcome in outcomes:
                job = outcome.job
                if job.subscription_id not in status:
                    continue  # deleted meanwhile: its queue and log went with it
                mine = sa.and_(d.c.id == job.delivery_id, d.c.lease_token == job.lease_token)
                next_attempt_at = None
                if outcome.delivered:
                    delivered.append({"delivery": job.delivery_id, "token": job.lease_token})
                else:
                    disable_reason = None
                    first_failed_at = job.first_failed_at or outcome.attempted_at
                    if outcome.status_code == 410:
                        disable_reason = f"the receiver answered 410 Gone on {_format_time(outcome.attempted_at)}"
                        next_attempt_at = outcome.attempted_at  # due as soon as it is re-enabled
                    else:
                        # Past the end of the schedule the last step repeats: a delivery is
                        # never dropped; the failure span below is what ends the retries.
                        step = min(job.failures + 1, len(self.schedule))
                        delay = next_delay(step, self.schedule, retry_after=outcome.retry_after, rng=self._rng)
                        next_attempt_at = outcome.attempted_at + timedelta(seconds=delay)
                        if outcome.attempted_at - first_failed_at >= self.disable_after:
                            disable_reason = (
                                f"deliveries have been failing since {_format_time(first_failed_at)}, longer than "
                                f"{self.disable_after.total_seconds():g} s"
                            )
                    updated = conn.execute(
                        sa.update(d)
                        .where(mine)
                        .values(
                            attempts=job.attempt,
                            failures=job.failures + 1,
                            first_failed_at=first_failed_at,
                            next_attempt_at=next_attempt_at,
                            leased_until=None,
                            lease_token=None,
                        )
                    )
                    if updated.rowcount == 0:
                        logger.info("delivery %s was taken over by another worker", job.delivery_id)
                    if disable_reason is not None and status[job.subscription_id] == "active":
                        conn.execute(
                            sa.update(subs)
                            .where(subs.c.id == job.subscription_id)
                            .values(status="disabled", disabled_reason=disable_reason, disabled_at=outcome.attempted_at)
                        )
                        status[job.subscription_id] = "disabled"
                        logger.warning("webhook subscription %s disabled: %s", job.subscription_id, disable_reason)
                    if status[job.subscription_id] != "active":
                        next_attempt_at = None  # not retried until it is re-enabled
                log_rows.append(
                    {
                        "subscription_id": job.subscription_id,
                        "event_id": job.event_id,
                        "position": job.position,
                        "incident_id": job.incident_id,
                        "attempt": job.attempt,
                        "status_code": outcome.status_code,
                        "error": outcome.error,
                        "response_body": outcome.response_body,
                        "latency_ms": round(outcome.latency_ms, 3),
                        "attempted_at": outcome.attempted_at,
                        "next_attempt_at": next_attempt_at,
                    }
                )
            if delivered:
                # Only the lease holder's row goes: if the lease was taken over (this worker was
                # too slow), the row is the other worker's now and stays. A duplicate, never a loss.
                conn.execute(
                    sa.delete(d).where(d.c.id == sa.bindparam("delivery"), d.c.lease_token == sa.bindparam("token")),
                    delivered,
                )
            if log_rows:
                conn.execute(sa.insert(a), log_rows)


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the webhook dispatcher stopped on an error", exc_info=task.exception())


async def _read_some(response: httpx.Response, limit: int) -> str:
    """Up to `limit` bytes of the response body, as text; the rest is not read."""
    if limit <= 0:
        return ""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit].decode("utf-8", errors="replace")


def _format_time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
