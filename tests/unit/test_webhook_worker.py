"""The worker loop against an in-memory queue and a sender over httpx.MockTransport.

The loop's own duties: every leased job is sent and its decided outcome handed to the queue, a
hanging receiver holds only its own attempts, a graceful stop records what was in flight, a
cancelled worker leaves it to the leases, a failed record loses nothing. The queue's side is the
contract suite (tests/integration/queue_contract.py); the whole thing with real receivers is
tests/integration/test_dispatcher.py.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from app.store import StoredEvent
from app.webhooks.model import Job, Outcome
from app.webhooks.queue import DeliveryQueue, FanOutPlan
from app.webhooks.retry import Delivered, Disable, Retry, RetryPolicy
from app.webhooks.sender import Sender
from app.webhooks.signing import new_secret
from app.webhooks.worker import Worker

POLICY = RetryPolicy(schedule=(5.0,), disable_after=timedelta(days=1))
SECRET = new_secret()
T0 = datetime(2026, 1, 27, 9, 0, tzinfo=timezone.utc)


def job(n: int, path: str, subscription: str = "sub") -> Job:
    event = StoredEvent(n, f"incident-{n}", 1, f"event-{n}", "IncidentOpened", 1, {"title": str(n)}, {}, T0, T0)
    return Job(n, f"token-{n}", subscription, f"https://receiver.example{path}", event, 1, 0, None, (SECRET,))


class MemoryQueue(DeliveryQueue):
    """Hands out the jobs it is given, once each, and keeps what is recorded."""

    def __init__(self, jobs: Sequence[Job] = ()):
        self.waiting = list(jobs)
        self.recorded: list[Outcome] = []
        self.leases: list[tuple[int, dict[str, int]]] = []  # (n, busy) of every lease
        self.failing_records = 0
        self.steps = 0  # turns of the worker's loop (each fans out first)
        self._changed = threading.Condition()

    def plan_fan_out(self) -> list[FanOutPlan]:
        with self._changed:
            self.steps += 1
            self._changed.notify_all()
        return []

    def add(self, new: Job) -> None:
        with self._changed:
            self.waiting.append(new)

    def write_fan_out(self, plans: Sequence[FanOutPlan]) -> bool:
        return True

    def lease(self, n: int, busy: Mapping[str, int], now: datetime) -> list[Job]:
        with self._changed:
            self.leases.append((n, dict(busy)))
            taken, self.waiting = self.waiting[:n], self.waiting[n:]
            self._changed.notify_all()
            return taken

    def record(self, outcomes: Sequence[Outcome]) -> None:
        with self._changed:
            if self.failing_records:
                self.failing_records -= 1
                raise RuntimeError("the database is unreachable")
            self.recorded += outcomes
            self._changed.notify_all()

    def next_due(self, now: datetime) -> datetime | None:
        return None

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        def wait() -> bool:
            with self._changed:
                return self._changed.wait_for(condition, timeout=10)

        assert await asyncio.to_thread(wait), f"timed out waiting for {what}"

    def decision(self, path: str):
        return next(o.decision for o in self.recorded if o.job.url.endswith(path))


class Receiver:
    """A MockTransport handler: /hang holds each request until `release`, the rest answer by path."""

    ANSWERS = {"/ok": 200, "/fail": 500, "/gone": 410, "/redirect": 307}

    def __init__(self):
        self.released = asyncio.Event()
        self.hanging = 0
        self._arrived = asyncio.Condition()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/hang":
            async with self._arrived:
                self.hanging += 1
                self._arrived.notify_all()
            await self.released.wait()
            return httpx.Response(200)
        return httpx.Response(self.ANSWERS[request.url.path], headers={"location": "https://elsewhere.example/"})

    async def until_hanging(self, count: int) -> None:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: self.hanging >= count), 10)


def worker(queue: MemoryQueue, receiver: Receiver, **options) -> Worker:
    options.setdefault("concurrency", 16)
    sender = Sender(httpx.MockTransport(receiver), timeout=5.0, max_body=100)
    return Worker(queue, sender, POLICY, poll=0.02, rng=random.Random(1), **options)


def run(test: Callable[[], object]) -> None:
    asyncio.run(test())


def test_every_answer_is_decided_by_the_retry_policy_and_recorded():
    queue = MemoryQueue([job(1, "/ok"), job(2, "/fail"), job(3, "/gone"), job(4, "/redirect")])

    async def main():
        running = worker(queue, Receiver())
        task = asyncio.create_task(running.run())
        await queue.until(lambda: len(queue.recorded) == 4, "four outcomes")
        await running.stop()
        await running.sender.aclose()
        await task

    run(main)
    assert queue.decision("/ok") == Delivered()
    gone = queue.decision("/gone")
    assert isinstance(gone, Disable) and gone.gone and "410" in gone.reason
    for path in ("/fail", "/redirect"):
        retry = queue.decision(path)
        attempted = next(o.sent.attempted_at for o in queue.recorded if o.job.url.endswith(path))
        assert isinstance(retry, Retry) and retry.failures == 1 and retry.failing_since == attempted
        assert timedelta(seconds=4) <= retry.at - attempted <= timedelta(seconds=6)
    assert all(o.sent.status_code == Receiver.ANSWERS[httpx.URL(o.job.url).path] for o in queue.recorded)


def test_a_hanging_receiver_holds_only_its_own_attempts():
    queue = MemoryQueue([job(1, "/hang", "slow"), job(2, "/hang", "slow"), job(3, "/ok"), job(4, "/ok"), job(5, "/ok")])
    receiver = Receiver()

    async def main():
        running = worker(queue, receiver)
        task = asyncio.create_task(running.run())
        await queue.until(lambda: len(queue.recorded) == 3, "the three fast deliveries")
        await receiver.until_hanging(2)
        assert {o.job.delivery_id for o in queue.recorded} == {3, 4, 5}
        receiver.released.set()
        await queue.until(lambda: len(queue.recorded) == 5, "the slow ones once released")
        await running.stop()
        await running.sender.aclose()
        await task

    run(main)
    assert all(o.decision == Delivered() for o in queue.recorded)


def test_no_more_is_leased_than_the_worker_has_slots_for():
    queue = MemoryQueue([job(1, "/hang", "a"), job(2, "/hang", "b"), job(3, "/hang", "a")])
    receiver = Receiver()

    async def main():
        running = worker(queue, receiver, concurrency=2)
        task = asyncio.create_task(running.run())
        await receiver.until_hanging(2)
        steps = queue.steps
        await queue.until(lambda: queue.steps >= steps + 2, "two more turns of the loop")
        assert queue.waiting == [job(3, "/hang", "a")] and queue.leases == [(2, {})]
        receiver.released.set()
        await queue.until(lambda: len(queue.recorded) == 3, "all three")
        await running.stop()
        await running.sender.aclose()
        await task

    run(main)
    assert all(n <= 2 for n, _ in queue.leases)


def test_the_queue_is_told_what_is_in_flight_per_subscription():
    queue = MemoryQueue([job(1, "/hang", "a")])
    receiver = Receiver()

    async def main():
        running = worker(queue, receiver)
        task = asyncio.create_task(running.run())
        await receiver.until_hanging(1)
        queue.add(job(2, "/ok", "b"))
        running.poke()
        await queue.until(lambda: len(queue.recorded) == 1, "the second job")
        receiver.released.set()
        await running.stop()
        await running.sender.aclose()
        await task

    run(main)
    # The queue keeps each subscription's share of slots from what is in flight for it.
    (n, busy) = next(lease for lease in queue.leases if lease[1])
    assert busy == {"a": 1} and n == 15
    assert [o.job.delivery_id for o in queue.recorded] == [2, 1]


def test_a_graceful_stop_lets_attempts_in_flight_finish_and_records_them():
    queue = MemoryQueue([job(1, "/hang")])
    receiver = Receiver()

    async def main():
        running = worker(queue, receiver)
        task = asyncio.create_task(running.run())
        await receiver.until_hanging(1)
        running.request_stop()
        receiver.released.set()
        await task
        await running.sender.aclose()

    run(main)
    assert [(o.job.delivery_id, o.decision) for o in queue.recorded] == [(1, Delivered())]


def test_a_cancelled_worker_leaves_its_attempts_to_the_leases():
    queue = MemoryQueue([job(1, "/hang")])
    receiver = Receiver()

    async def main():
        running = worker(queue, receiver)
        task = asyncio.create_task(running.run())
        await receiver.until_hanging(1)
        task.cancel()  # as SIGKILL would stop it: nothing more is written
        with pytest.raises(asyncio.CancelledError):
            await task
        await running.sender.aclose()

    run(main)
    assert queue.recorded == []


def test_outcomes_are_kept_when_recording_them_fails_and_written_on_a_later_turn():
    queue = MemoryQueue([job(1, "/ok")])
    queue.failing_records = 2

    async def main():
        running = worker(queue, Receiver())
        task = asyncio.create_task(running.run())
        await queue.until(lambda: len(queue.recorded) == 1, "the outcome, once the database is back")
        await running.stop()
        await running.sender.aclose()
        await task

    run(main)
    assert [o.job.delivery_id for o in queue.recorded] == [1]
