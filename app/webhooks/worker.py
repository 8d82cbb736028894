"""The webhook worker: the async loop between the delivery queue and the sender.

One loop per process (inside `timeline serve`, or alone as `timeline worker`), any number of
processes on one database. Each turn runs one step in a thread: record the outcomes of finished
attempts, fan out, lease. Each leased job is then sent by its own task, concurrently; the task
asks the retry policy what its result means (outside any transaction) and hands the decided
outcome back to the loop, which the next step records. A finished task wakes the loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from app.db import utcnow
from app.webhooks.model import Job, Outcome
from app.webhooks.queue import DeliveryQueue
from app.webhooks.retry import RetryPolicy, decide
from app.webhooks.sender import Sender

__all__ = ["Worker"]

logger = logging.getLogger("timeline.webhooks")

BATCH_WINDOW = 0.005  # seconds a step waits at most for more answers from attempts in flight
BATCH_GAP = 0.001  # ... and at most this long for the next one
_NOTHING = object()  # no token from the watch: the step runs


class AppendWaiter(Protocol):
    """What the worker needs of app.notify.AppendSignal."""

    @property
    def generation(self) -> int: ...

    async def wait(self, seen_generation: int, timeout: float) -> int: ...


class Worker:
    """Record, fan out, lease and send, until `stop()`; see the module docstring."""

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: Sender,
        policy: RetryPolicy,
        *,
        concurrency: int,
        poll: float,
        signal: AppendWaiter | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_outcome: Callable[[Outcome], None] | None = None,
        watch: Callable[[], Any] | None = None,
    ):
        self.queue = queue
        self.sender = sender
        self.policy = policy
        self.concurrency = max(1, concurrency)
        self.poll = poll
        self._signal = signal  # in-process appends wake the loop at once
        self._rng = rng or random.Random()
        self._clock = clock
        self._on_outcome = on_outcome  # told of every finished attempt, before it is recorded
        # A token that stays the same while nothing at all is committed to the database (SQLite's
        # data_version: app.store.backends.DataVersionWatch): a poll that finds it unchanged since
        # the last step, nothing to record, nothing in flight and nothing due yet has nothing to
        # find, and takes no step (the thread hop a poll, twice a second, beside a front page's reads).
        self._watch = watch
        self._busy: dict[str, int] = {}  # subscription id -> attempts in flight in this process
        self._tasks: set[asyncio.Task] = set()
        self._outcomes: list[Outcome] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._task: asyncio.Task | None = None

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
        watcher = self._loop.create_task(self._watch_appends()) if self._signal is not None else None
        logger.info("webhook dispatcher started")
        graceful = False
        stepped: Any = _NOTHING  # the watch's token, read before the last step that succeeded
        due_at = 0.0  # loop time at which the last step said work is next due
        woken = True  # whether the last wait ended by a wake-up (an append, a poke, an answer)
        try:
            while not self._stopping:
                # Cleared before the step, so a wake-up that arrives during it (an append, a
                # finished attempt) makes the wait below return at once: nothing is missed.
                self._wake.clear()
                outcomes, self._outcomes = self._outcomes, []
                free = self.concurrency - len(self._tasks)
                # Read before the step: a commit made while it runs changes the token, so the
                # next poll steps again.
                token = self._token()
                quiet = token is not _NOTHING and token == stepped and self._loop.time() < due_at
                jobs: list[Job] = []
                if woken or outcomes or self._tasks or not quiet:
                    stepped = _NOTHING
                    try:
                        jobs, due_in, whole = await asyncio.to_thread(self._step, outcomes, dict(self._busy), free)
                        if whole:
                            stepped = token
                    except Exception:
                        logger.exception("could not record webhook outcomes; retrying")
                        # Keep the outcomes: they are recorded on the next turn (if their leases
                        # lapse first, another worker delivers again: at least once).
                        self._outcomes = outcomes + self._outcomes
                        due_in = self.poll
                    due_at = math.inf if due_in is None else self._loop.time() + due_in
                for job in jobs:
                    self._launch(job)
                if self._stopping:
                    break
                try:
                    timeout = max(0.0, min(self.poll, due_at - self._loop.time()))
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                    woken = True
                except TimeoutError:
                    woken = False
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
                        await asyncio.to_thread(self.queue.record, self._outcomes)
                    except Exception:
                        logger.exception("could not record the last webhook outcomes; their leases will lapse")
                    self._outcomes = []
            else:
                # Cancelled (or crashed): like a killed process, leave the leases to lapse.
                for task in list(self._tasks):
                    task.cancel()
            logger.info("webhook dispatcher stopped")

    def _token(self) -> Any:
        if self._watch is None:
            return _NOTHING
        try:
            return self._watch()
        except Exception:
            return _NOTHING  # the step runs, and says what is wrong with the database

    def _step(self, outcomes: list[Outcome], busy: dict[str, int], free: int) -> tuple[list[Job], float | None, bool]:
        """Record, fan out, lease; the jobs, the seconds until work is next due (None: nothing is
        waiting for a time), and whether the step went through (else it is tried after a poll)."""
        # Record before leasing: a delivered head row must be gone before the next event of
        # its incident can become eligible.
        if outcomes:
            self.queue.record(outcomes)  # if this fails, the caller keeps the outcomes for the next step
        try:
            caught_up = self.queue.fan_out()
            jobs = self.queue.lease(free, busy, self._clock()) if free > 0 else []
            if not caught_up:
                return jobs, 0.0, True  # a fan-out that stopped at its page size goes on at once
            now = self._clock()
            due = self.queue.next_due(now)
            return jobs, None if due is None else max(0.0, (due - now).total_seconds()) + 0.001, True
        except Exception:
            # The database is unreachable, say: nothing was leased, so nothing is lost; try again
            # after a poll interval.
            logger.exception("webhook dispatcher step failed; retrying")
            return [], self.poll, False

    async def _gather_outcomes(self) -> None:
        """Give attempts still in flight a moment to finish, so one step records them together.

        Fast receivers answer within a few milliseconds of each other; recording each answer in
        its own step would cost a transaction apiece. The wait ends as soon as nothing is left in
        flight (a lone delivery, the latency case, never waits), when no answer came for
        BATCH_GAP (so attempts hanging on a slow receiver cost the others at most that), or
        after BATCH_WINDOW in all.
        """
        assert self._loop is not None and self._wake is not None
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
        assert self._signal is not None and self._wake is not None
        generation = self._signal.generation
        while True:
            seen = generation
            generation = await self._signal.wait(seen, 60.0)
            if generation != seen:
                self._wake.set()

    def _launch(self, job: Job) -> None:
        self._busy[job.subscription_id] = self._busy.get(job.subscription_id, 0) + 1
        task = asyncio.get_running_loop().create_task(self._attempt(job))
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
                if self._on_outcome is not None:
                    self._on_outcome(finished.result())
                assert self._wake is not None
                self._wake.set()

        task.add_done_callback(done)

    async def _attempt(self, job: Job) -> Outcome:
        sent = await self.sender.send(job)
        decision = decide(
            sent.status_code,
            failures=job.failures,
            failing_since=job.first_failed_at,
            now=sent.attempted_at,
            retry_after=sent.retry_after,
            policy=self.policy,
            draw=self._rng.random(),
        )
        return Outcome(job, sent, decision)


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the webhook dispatcher stopped on an error", exc_info=task.exception())
