"""The delivery queue's contract: one suite, subclassed per backend (test_queue_sqlite, test_queue_postgres).

No HTTP here: a test leases jobs, makes up what the receiver answered, decides with the retry
policy's own types, and records. Two queue instances on their own engines stand for two workers.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.access import revoke_key
from app.db import create_engine, utcnow
from app.store import EventStore, NewEvent, StoredEvent
from app.webhooks.model import Job, Outcome, Sent
from app.webhooks.queue import DeliveryQueue, SqlQueue, open_queue
from app.webhooks.retry import Decision, Delivered, Disable, Retry
from app.webhooks.subscriptions import Subscriptions
from app.webhooks.tables import webhook_attempts, webhook_deliveries
from tests.support.examples import examples

OWNER = "key-owner"
LEASE = timedelta(seconds=30)
US = timedelta(microseconds=1)


def append(store: EventStore, incident: str, count: int = 1) -> list[StoredEvent]:
    """`count` events appended to `incident`, one append each; returns them as stored."""
    for n in range(count):
        kind = "IncidentOpened" if store.stream_version(incident) is None else "IncidentRevised"
        store.append(
            incident,
            [NewEvent(kind, {"title": f"{incident} {n}"} if kind == "IncidentOpened" else {"summary": str(n)})],
        )
    head = store.head_position()
    return store.read_all(after_position=head - count, limit=count)


def sent(at: datetime | None = None, status: int | None = 200) -> Sent:
    return Sent(at or utcnow(), 1.5, status, None if status else "ConnectError", "ok", None)


def outcome(job: Job, decision: Decision, *, at: datetime | None = None, status: int | None = None) -> Outcome:
    if status is None:
        status = (
            200
            if isinstance(decision, Delivered)
            else (410 if isinstance(decision, Disable) and decision.gone else 500)
        )
    return Outcome(job, sent(at, status), decision)


def delivered(job: Job) -> Outcome:
    return outcome(job, Delivered())


def failed(job: Job, retry_at: datetime, *, at: datetime | None = None) -> Outcome:
    at = at or utcnow()
    return outcome(job, Retry(retry_at, job.failures + 1, job.first_failed_at or at), at=at)


def rows(engine: sa.Engine, subscription_id: str | None = None) -> list:
    d = webhook_deliveries
    query = sa.select(d).order_by(d.c.subscription_id, d.c.position)
    if subscription_id is not None:
        query = query.where(d.c.subscription_id == subscription_id)
    with engine.connect() as conn:
        return conn.execute(query).all()


def log(engine: sa.Engine, subscription_id: str) -> list:
    a = webhook_attempts
    with engine.connect() as conn:
        return conn.execute(sa.select(a).where(a.c.subscription_id == subscription_id).order_by(a.c.id)).all()


def later(seconds: float = 0.001) -> datetime:
    """A moment just after every delivery queued so far became due."""
    return utcnow() + timedelta(seconds=seconds)


class RecordingStore(EventStore):
    """The event store, noting which of its read methods were called."""

    def __init__(self, engine: sa.Engine):
        super().__init__(engine)
        self.calls: Counter[str] = Counter()

    def read_all(self, **kwargs):
        self.calls["read_all"] += 1
        return super().read_all(**kwargs)

    def read_positions(self, positions):
        self.calls["read_positions"] += 1
        return super().read_positions(positions)

    def head_position(self):
        self.calls["head_position"] += 1
        return super().head_position()


class DeliveryQueueContract:
    queue_class: type[SqlQueue]

    @pytest.fixture
    def make_queue(self, database_url):
        """A queue on its own engine, as a worker process has it."""
        engines: list[sa.Engine] = []

        def make(store_class: type[EventStore] = EventStore, **options) -> SqlQueue:
            engine = create_engine(database_url, durability="fast")
            engines.append(engine)
            options.setdefault("lease_time", LEASE)
            options.setdefault("per_subscription", 8)
            return self.queue_class(engine, store_class(engine), **options)

        yield make
        for engine in engines:
            engine.dispose()

    @pytest.fixture
    def queue(self, make_queue) -> SqlQueue:
        return make_queue()

    @pytest.fixture
    def other(self, make_queue) -> SqlQueue:
        """A second worker."""
        return make_queue()

    @pytest.fixture
    def subscriptions(self, engine) -> Subscriptions:
        return Subscriptions(engine)

    def subscribe(self, subscriptions: Subscriptions, **options) -> str:
        return subscriptions.create(OWNER, options.pop("url", "https://receiver.example/hook"), **options)[0].id

    def checkpoint(self, subscriptions: Subscriptions, subscription_id: str) -> int:
        return subscriptions.get(OWNER, subscription_id).checkpoint

    # -- the backend ---------------------------------------------------------------------------

    def test_open_queue_picks_this_backends_queue(self, engine, store):
        queue = open_queue(engine, store, lease_time=LEASE, per_subscription=8)
        assert type(queue) is self.queue_class and isinstance(queue, DeliveryQueue)

    # -- fan-out -------------------------------------------------------------------------------

    def test_fan_out_queues_what_matches_after_the_checkpoint_and_moves_it(self, queue, store, subscriptions, engine):
        early = append(store, "alpha", 2) + append(store, "bravo", 1)
        everything = self.subscribe(subscriptions, from_position=2)
        only_bravo = self.subscribe(subscriptions, incidents=["bravo"], from_position=1)
        revisions = self.subscribe(subscriptions, types=["IncidentRevised"])
        late = append(store, "bravo", 1) + append(store, "charlie", 1)
        assert queue.fan_out() is True
        assert [r.position for r in rows(engine, everything)] == [e.position for e in early[1:] + late]
        assert [r.position for r in rows(engine, only_bravo)] == [early[2].position, late[0].position]
        assert [(r.position, r.event_id) for r in rows(engine, revisions)] == [(late[0].position, late[0].event_id)]
        assert [r.incident_id for r in rows(engine, everything)] == [e.incident_id for e in early[1:] + late]
        head = store.head_position()
        assert {self.checkpoint(subscriptions, s) for s in (everything, only_bravo, revisions)} == {head}
        before = rows(engine)
        assert queue.fan_out() is True  # caught up: nothing more, nothing twice
        assert rows(engine) == before

    def test_fan_out_reads_the_log_through_the_event_store(self, make_queue, store, subscriptions):
        queue = make_queue(RecordingStore)
        self.subscribe(subscriptions)
        (event,) = append(store, "alpha")
        queue.fan_out()
        (job,) = queue.lease(10, {}, later())
        assert job.event == event
        assert queue.store.calls["head_position"] >= 1
        assert queue.store.calls["read_all"] == 1 and queue.store.calls["read_positions"] == 1

    def test_the_checkpoint_moves_with_the_queued_rows_or_not_at_all(
        self, queue, make_queue, store, subscriptions, engine, monkeypatch
    ):
        subscription = self.subscribe(subscriptions)
        events = append(store, "alpha", 3) + append(store, "bravo", 2)

        def crash(conn, subscription_id, checkpoint):
            raise RuntimeError("the process died between the rows and the checkpoint")

        # A crash after the rows were inserted and before the checkpoint moved, in the same
        # transaction: neither is left behind.
        with monkeypatch.context() as patch:
            patch.setattr(queue, "_advance", crash)
            with pytest.raises(RuntimeError):
                queue.fan_out()
        assert rows(engine, subscription) == []
        assert self.checkpoint(subscriptions, subscription) == 0
        # A restarted worker does the same work again: everything once, nothing skipped.
        restarted = make_queue()
        assert restarted.fan_out() is True
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in events]
        assert self.checkpoint(subscriptions, subscription) == store.head_position()
        assert queue.fan_out() is True
        assert len(rows(engine, subscription)) == 5

    def test_a_plan_overtaken_by_another_worker_is_dropped(self, queue, other, store, subscriptions, engine):
        subscription = self.subscribe(subscriptions)
        events = append(store, "alpha", 4)
        plans = queue.plan_fan_out()
        assert [len(plan.events) for plan in plans] == [4]
        assert other.fan_out() is True
        more = append(store, "alpha", 1)
        assert queue.write_fan_out(plans) is False  # the checkpoint it was read from has moved
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in events]
        assert queue.fan_out() is True
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in events + more]

    def test_a_plan_read_before_a_replay_does_not_undo_it(self, queue, store, subscriptions, engine):
        subscription = self.subscribe(subscriptions)
        first = append(store, "alpha", 3)
        queue.fan_out()
        while jobs := queue.lease(10, {}, later()):
            queue.record([delivered(job) for job in jobs])
        assert rows(engine, subscription) == []
        second = append(store, "alpha", 2)
        plans = queue.plan_fan_out()  # read before the replay ...
        assert subscriptions.replay(OWNER, subscription, from_position=first[1].position) == 2
        assert queue.write_fan_out(plans) is False  # ... and written after it: dropped
        assert self.checkpoint(subscriptions, subscription) == first[0].position
        assert queue.fan_out() is True
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in first[1:] + second]

    def test_replay_requeues_from_a_position_and_never_doubles_what_is_still_queued(
        self, queue, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        alpha = append(store, "alpha", 2)
        bravo = append(store, "bravo", 2)
        queue.fan_out()
        heads = queue.lease(10, {}, later())
        queue.record([delivered(job) for job in heads if job.incident_id == "alpha"])
        (second_alpha,) = queue.lease(10, {}, later())  # bravo's head is still in flight
        queue.record([delivered(second_alpha)])
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in bravo]
        assert subscriptions.replay(OWNER, subscription, from_position=alpha[0].position) == 2
        assert queue.fan_out() is True
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in alpha + bravo]
        assert self.checkpoint(subscriptions, subscription) == store.head_position()

    def test_the_window_bounds_the_queue_and_the_log_holds_the_rest(self, make_queue, store, subscriptions, engine):
        queue = make_queue(window=3)
        subscription = self.subscribe(subscriptions, types=["IncidentRevised"])
        events = [e for e in append(store, "alpha", 5) + append(store, "bravo", 4) if e.type == "IncidentRevised"]
        assert queue.fan_out() is True  # held back by its window, not behind: no hurry
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in events[:3]]
        assert self.checkpoint(subscriptions, subscription) == events[2].position
        (job,) = queue.lease(10, {}, later())
        assert job.position == events[0].position
        queue.record([delivered(job)])
        queue.fan_out()  # room for one more
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in events[1:4]]

    def test_a_page_at_a_time_behind_a_long_log(self, make_queue, store, subscriptions, engine):
        queue = make_queue(page=3)
        subscription = self.subscribe(subscriptions, from_position=1)
        events = append(store, "alpha", 7)
        assert queue.fan_out() is False  # left behind the head by the page: go on at once
        assert self.checkpoint(subscriptions, subscription) == 3
        assert queue.fan_out() is False
        assert queue.fan_out() is True
        assert [r.position for r in rows(engine, subscription)] == [e.position for e in events]

    def test_paused_and_disabled_subscriptions_are_neither_fanned_out_nor_leased(
        self, queue, store, subscriptions, engine
    ):
        paused = self.subscribe(subscriptions)
        disabled = self.subscribe(subscriptions)
        append(store, "alpha", 1)
        queue.fan_out()
        subscriptions.update(OWNER, paused, {"paused": True})
        (job,) = [job for job in queue.lease(10, {}, later()) if job.subscription_id == disabled]
        queue.record([outcome(job, Disable("gone", True, 1, utcnow()))])
        assert subscriptions.status(disabled)[0] == "disabled"
        more = append(store, "alpha", 2)
        assert queue.fan_out() is True
        assert queue.lease(10, {}, later(1)) == []
        assert len(rows(engine, paused)) == 1 and self.checkpoint(subscriptions, paused) == more[0].position - 1
        subscriptions.update(OWNER, paused, {"paused": False})
        queue.fan_out()
        (resumed,) = queue.lease(10, {}, later())
        assert (resumed.subscription_id, resumed.event.version) == (paused, 1)
        assert len(rows(engine, paused)) == 3 and len(rows(engine, disabled)) == 1

    def test_a_subscription_paused_after_its_candidates_were_read_is_not_leased(
        self, queue, store, subscriptions, engine, keys, monkeypatch
    ):
        # The revoked-key race: the lease reads its candidates, the key is revoked (which pauses
        # its subscriptions) and only then does the lease claim them.
        key, _ = keys.create("owner", frozenset({"webhooks"}))
        subscription = subscriptions.create(key.id, "https://receiver.example/hook")[0].id
        append(store, "alpha", 2)
        queue.fan_out()
        read_candidates = queue._candidates

        def then_revoke(now):
            found = read_candidates(now)
            assert found, "the subscription's delivery was a candidate"
            assert revoke_key(engine, key.id).paused == (subscription,)
            return found

        monkeypatch.setattr(queue, "_candidates", then_revoke)
        assert queue.lease(10, {}, later()) == []
        assert all(row.leased_until is None for row in rows(engine, subscription))

    # -- leases --------------------------------------------------------------------------------

    def test_only_the_head_of_each_subscription_and_incident_is_leased(self, queue, store, subscriptions):
        first = self.subscribe(subscriptions)
        second = self.subscribe(subscriptions)
        alpha = append(store, "alpha", 3)
        bravo = append(store, "bravo", 2)
        queue.fan_out()
        jobs = queue.lease(10, {}, later())
        assert sorted((j.subscription_id, j.position) for j in jobs) == sorted(
            (s, e.position) for s in (first, second) for e in (alpha[0], bravo[0])
        )
        assert queue.lease(10, {}, later()) == []  # every head is leased: nothing behind them moves
        head_of_alpha = next(j for j in jobs if j.subscription_id == first and j.incident_id == "alpha")
        queue.record([delivered(head_of_alpha)])
        (next_job,) = queue.lease(10, {}, later())
        assert (next_job.subscription_id, next_job.position) == (first, alpha[1].position)

    def test_leases_are_exclusive_across_two_workers(self, queue, other, store, subscriptions):
        self.subscribe(subscriptions)
        for n in range(6):
            append(store, f"incident-{n}")
        queue.fan_out()
        now = later()
        mine = queue.lease(4, {}, now)
        theirs = other.lease(10, {}, now)
        assert len(mine) == 4 and len(theirs) == 2
        assert not {j.delivery_id for j in mine} & {j.delivery_id for j in theirs}
        assert queue.lease(10, {}, now) == [] and other.lease(10, {}, now) == []
        assert len({j.lease_token for j in mine}) == 1 and mine[0].lease_token != theirs[0].lease_token

    def test_a_candidate_another_worker_leased_meanwhile_is_not_leased_again(
        self, queue, other, store, subscriptions, monkeypatch
    ):
        self.subscribe(subscriptions)
        append(store, "alpha")
        append(store, "bravo")
        queue.fan_out()
        now = later()
        read_candidates = queue._candidates
        theirs: list[Job] = []

        def then_the_other_worker_leases(moment):
            found = read_candidates(moment)
            assert len(found) == 2
            theirs.extend(other.lease(1, {}, moment))
            return found

        monkeypatch.setattr(queue, "_candidates", then_the_other_worker_leases)
        mine = queue.lease(10, {}, now)
        assert len(theirs) == 1 and len(mine) == 1
        assert mine[0].delivery_id != theirs[0].delivery_id

    def test_two_workers_leasing_at_the_same_time_never_share_a_delivery(
        self, make_queue, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        events = []
        for n in range(24):
            events += append(store, f"incident-{n}", 2)
        workers = [make_queue(per_subscription=100) for _ in range(2)]
        workers[0].fan_out()
        start = threading.Barrier(2)
        taken: list[list[tuple[int, int]]] = [[], []]
        errors: list[BaseException] = []

        def work(index: int) -> None:
            queue = workers[index]
            try:
                start.wait(10)
                while rows(engine, subscription):
                    jobs = queue.lease(3, {}, later())
                    taken[index] += [(job.delivery_id, job.position) for job in jobs]
                    queue.record([delivered(job) for job in jobs])
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert not set(taken[0]) & set(taken[1]), "a delivery was leased by both workers"
        assert sorted(p for _, p in taken[0] + taken[1]) == [e.position for e in events], "each exactly once"

    def test_an_expired_lease_is_taken_over_and_the_late_result_is_fenced(
        self, queue, other, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        (event,) = append(store, "alpha")
        queue.fan_out()
        now = later()
        (slow,) = queue.lease(10, {}, now)
        assert other.lease(10, {}, now + LEASE) == []  # still leased at its last moment
        (taker,) = other.lease(10, {}, now + LEASE + US)
        assert (taker.delivery_id, taker.attempt, taker.event) == (slow.delivery_id, slow.attempt, event)
        assert taker.lease_token != slow.lease_token
        # The first worker's late answers (a failure, then a success) no longer touch the row.
        queue.record([failed(slow, later(60))])
        queue.record([delivered(slow)])
        (row,) = rows(engine, subscription)
        assert (row.lease_token, row.failures, row.attempts) == (taker.lease_token, 0, 0)
        other.record([delivered(taker)])
        assert rows(engine, subscription) == []
        assert len(log(engine, subscription)) == 3  # every attempt is in the log

    def test_per_subscription_slots_and_what_is_in_flight_bound_a_lease(self, make_queue, store, subscriptions):
        queue = make_queue(per_subscription=2)
        busy = self.subscribe(subscriptions)
        quiet = self.subscribe(subscriptions)
        for n in range(5):
            append(store, f"incident-{n}")
        queue.fan_out()
        now = later()
        # One from every subscription before a second from any.
        assert Counter(j.subscription_id for j in queue.lease(2, {}, now)) == {busy: 1, quiet: 1}
        # Two slots per subscription, less what this worker has in flight for it.
        assert Counter(j.subscription_id for j in queue.lease(10, {busy: 1, quiet: 1}, now)) == {busy: 1, quiet: 1}
        assert Counter(j.subscription_id for j in queue.lease(10, {busy: 2}, now)) == {quiet: 2}
        assert queue.lease(10, {busy: 2, quiet: 2}, now) == []
        assert queue.lease(0, {}, now) == []

    # -- record --------------------------------------------------------------------------------

    def test_a_recorded_success_removes_the_delivery_and_logs_the_attempt(self, queue, store, subscriptions, engine):
        subscription = self.subscribe(subscriptions)
        (event,) = append(store, "alpha")
        queue.fan_out()
        (job,) = queue.lease(10, {}, later())
        done = delivered(job)
        queue.record([done])
        assert rows(engine, subscription) == []
        (entry,) = log(engine, subscription)
        assert (entry.event_id, entry.position, entry.incident_id, entry.attempt) == (
            event.event_id,
            event.position,
            "alpha",
            1,
        )
        assert (entry.status_code, entry.response_body, entry.next_attempt_at) == (200, "ok", None)
        assert entry.attempted_at == done.sent.attempted_at and entry.latency_ms == 1.5

    def test_a_recorded_failure_schedules_the_retry_the_policy_decided(
        self, queue, other, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        first, second = append(store, "alpha", 2)
        queue.fan_out()
        (job,) = queue.lease(10, {}, later())
        attempted = utcnow()
        retry_at = attempted + timedelta(seconds=42)
        queue.record([failed(job, retry_at, at=attempted)])
        head, behind = rows(engine, subscription)
        assert (head.position, head.attempts, head.failures) == (first.position, 1, 1)
        assert (head.next_attempt_at, head.first_failed_at, head.leased_until, head.lease_token) == (
            retry_at,
            attempted,
            None,
            None,
        )
        assert log(engine, subscription)[0].next_attempt_at == retry_at
        assert queue.next_due(attempted) == retry_at
        # Not before the time decided, by any worker, and the incident's next event waits too.
        assert other.lease(10, {}, retry_at - US) == []
        (again,) = other.lease(10, {}, retry_at)
        assert (again.position, again.attempt, again.failures, again.first_failed_at) == (
            first.position,
            2,
            1,
            attempted,
        )
        assert behind.position == second.position

    def test_a_disable_decision_disables_the_subscription_and_keeps_the_delivery(
        self, queue, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        append(store, "alpha", 2)
        queue.fan_out()
        (job,) = queue.lease(10, {}, later())
        attempted = utcnow()
        reason = "the receiver answered 410 Gone on now"
        queue.record([outcome(job, Disable(reason, True, 1, attempted), at=attempted)])
        assert subscriptions.status(subscription) == ("disabled", reason)
        assert subscriptions.get(OWNER, subscription).disabled_at == attempted
        head = rows(engine, subscription)[0]
        assert (head.failures, head.next_attempt_at, head.leased_until) == (1, attempted, None)
        assert log(engine, subscription)[0].next_attempt_at is None  # not retried while disabled
        assert queue.lease(10, {}, later(60)) == []
        subscriptions.update(OWNER, subscription, {"paused": False})
        (again,) = queue.lease(10, {}, later())
        assert (again.delivery_id, again.attempt, again.failures) == (job.delivery_id, 2, 0)

    def test_a_retry_decided_for_a_subscription_paused_meanwhile_waits_for_its_resumption(
        self, queue, store, subscriptions, engine
    ):
        subscription = self.subscribe(subscriptions)
        append(store, "alpha")
        queue.fan_out()
        (job,) = queue.lease(10, {}, later())
        subscriptions.update(OWNER, subscription, {"paused": True})
        queue.record([failed(job, later(1))])
        assert subscriptions.status(subscription)[0] == "paused"  # a retry does not change that
        assert log(engine, subscription)[0].next_attempt_at is None
        assert queue.lease(10, {}, later(5)) == []

    def test_outcomes_for_a_deleted_subscription_are_dropped(self, queue, store, subscriptions, engine):
        subscription = self.subscribe(subscriptions)
        keep = self.subscribe(subscriptions)
        append(store, "alpha")
        queue.fan_out()
        jobs = queue.lease(10, {}, later())
        subscriptions.delete(OWNER, subscription)
        queue.record([delivered(job) for job in jobs])
        assert log(engine, subscription) == [] and rows(engine, subscription) == []
        assert len(log(engine, keep)) == 1 and rows(engine, keep) == []

    def test_next_due_is_the_soonest_retry_or_lease_lapse(self, queue, store, subscriptions):
        self.subscribe(subscriptions)
        append(store, "alpha")
        append(store, "bravo")
        queue.fan_out()
        now = later()
        assert queue.next_due(now) is None  # everything is due already: nothing in the future
        retried, leased = sorted(queue.lease(10, {}, now), key=lambda j: j.incident_id)
        assert queue.next_due(now) == now + LEASE
        queue.record([failed(retried, now + timedelta(seconds=5))])
        assert queue.next_due(now) == now + timedelta(seconds=5)

    # -- jobs ----------------------------------------------------------------------------------

    def test_jobs_carry_the_event_the_url_and_the_signing_secrets(self, queue, store, subscriptions):
        subscription, secret = subscriptions.create(OWNER, "https://receiver.example/hook?x=1")
        (event,) = append(store, "alpha")
        queue.fan_out()
        (job,) = queue.lease(10, {}, later())
        assert (job.subscription_id, job.url, job.event, job.secrets) == (
            subscription.id,
            subscription.url,
            event,
            (secret,),
        )
        assert (job.attempt, job.failures, job.first_failed_at) == (1, 0, None)
        assert (job.position, job.incident_id, job.event_id) == (event.position, "alpha", event.event_id)
        newer, _ = subscriptions.rotate_secret(OWNER, subscription.id, grace_seconds=3600)
        queue.record([failed(job, later())])
        (again,) = queue.lease(10, {}, later(1))
        assert again.secrets == (newer, secret)  # newest first, both during the grace period

    # -- the whole protocol --------------------------------------------------------------------

    @settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        script=st.lists(
            st.one_of(
                st.tuples(st.just("append"), st.integers(0, 2), st.integers(1, 3)),
                # (worker, how many to lease, answer or die holding the leases, succeed or fail)
                st.tuples(st.just("work"), st.integers(0, 1), st.integers(1, 4), st.booleans(), st.booleans()),
                st.tuples(st.just("lapse")),
            ),
            min_size=1,
            max_size=25,
        )
    )
    def test_any_interleaving_of_two_workers_delivers_everything_in_order(
        self, make_queue, store, subscriptions, engine, script
    ):
        # Each worker leases, then records what the receiver answered (a success, or a failure
        # retried at once) or dies holding its leases, which lapse later. The receiver sees each
        # incident's events in version order, and every event is delivered in the end.
        prefix = uuid.uuid4().hex[:8]
        subscription = self.subscribe(subscriptions)
        workers = [make_queue(), make_queue()]
        skew = [timedelta(milliseconds=1)]  # the workers' clock runs ahead of the real one by this

        def now() -> datetime:
            return utcnow() + skew[0]

        appended: list[StoredEvent] = []
        received: list[StoredEvent] = []
        acknowledged: list[StoredEvent] = []

        def work(queue: SqlQueue, n: int, answer: bool = True, succeed: bool = True) -> None:
            jobs = queue.lease(n, {}, now())
            received.extend(job.event for job in jobs)
            if answer:
                queue.record([delivered(job) if succeed else failed(job, now()) for job in jobs])
                acknowledged.extend(job.event for job in jobs if succeed)

        try:
            for step in script:
                if step[0] == "append":
                    appended += append(store, f"{prefix}-{step[1]}", step[2])
                    workers[step[1] % 2].fan_out()
                elif step[0] == "work":
                    work(workers[step[1]], step[2], step[3], step[4])
                else:
                    skew[0] += LEASE  # every lease held so far lapses
            skew[0] += LEASE
            while workers[0].fan_out() is False or rows(engine, subscription):
                work(workers[0], 10)
            highest: dict[str, int] = {}
            for event in received:
                assert event.version <= highest.get(event.incident_id, 0) + 1, (
                    "an event was sent before the one before it"
                )
                highest[event.incident_id] = max(highest.get(event.incident_id, 0), event.version)
            for incident in {e.incident_id for e in appended}:
                versions = [e.version for e in acknowledged if e.incident_id == incident]
                assert versions == sorted(versions), "acknowledged out of order"
            assert Counter(e.event_id for e in acknowledged) == Counter(e.event_id for e in appended), (
                "each acknowledged once"
            )
        finally:
            subscriptions.delete(OWNER, subscription)
