"""Webhooks end to end: the real `timeline serve` (and `timeline worker`) processes, a real receiver.

The receiver (tests/support/webhook_receiver.py) listens on a loopback port, which the server is
told to allow (TIMELINE_WEBHOOK_ALLOW_NETWORKS=127.0.0.0/8, plain http allowed). It verifies every
request with `standardwebhooks.Webhook(secret).verify` and parses it with the `cloudevents`
package. Retries are fast here (TIMELINE_WEBHOOK_RETRY_SCHEDULE=0.2,0.2,0.5,1, 1 s timeout, 3 s
leases), and every wait is for a condition with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tests.support.live import REPO, ServerProcess
from tests.support.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.e2e

WEBHOOK_ENV = {
    "TIMELINE_WEBHOOK_ALLOW_HTTP": "true",
    "TIMELINE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    "TIMELINE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.5,1",
    "TIMELINE_WEBHOOK_TIMEOUT": "1",
    "TIMELINE_WEBHOOK_LEASE": "3",
}


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(0.05)  # a polling interval, not a wait for an outcome


class Api:
    """The service's HTTP API as one API key uses it; close() when done (or let the `api` fixture)."""

    def __init__(self, url: str, token: str):
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        self.opened: set[str] = set()

    def subscribe(self, receiver: Receiver, **body) -> dict:
        response = self.client.post("/v1/subscriptions", json={"url": receiver.url, **body})
        assert response.status_code == 201, response.text
        receiver.secrets.append(response.json()["secret"])
        return response.json()

    def append(self, incident: str, count: int = 1) -> list[int]:
        """Append `count` events to `incident`, opening it first (IncidentOpened counts as one) if new."""
        positions = []
        if incident not in self.opened:
            opened = self.client.post("/v1/incidents", json={"id": incident, "title": incident})
            assert opened.status_code in (201, 409), opened.text
            self.opened.add(incident)
            if opened.status_code == 201:
                positions = opened.json()["positions"]
                count -= 1
                if count == 0:
                    return positions
        events = [{"type": "IncidentRevised", "data": {"summary": f"{incident} update {n}"}} for n in range(count)]
        response = self.client.post(f"/v1/incidents/{incident}/events", json={"events": events})
        assert response.status_code == 201, response.text
        return positions + response.json()["positions"]

    def close(self) -> None:
        self.client.close()

    def _page(self, after: int) -> list[dict]:
        response = self.client.get("/v1/events", params={"after_position": after, "limit": 1000})
        assert response.status_code == 200, response.text
        return response.json()["events"]

    def log(self, after: int = 0) -> list[dict]:
        events = []
        while page := self._page(after):
            events += page
            after = page[-1]["position"]
        return events

    def subscription(self, subscription_id: str) -> dict:
        return self.client.get(f"/v1/subscriptions/{subscription_id}").json()

    def deliveries(self, subscription_id: str) -> list[dict]:
        return self.client.get(f"/v1/subscriptions/{subscription_id}/deliveries", params={"limit": 1000}).json()[
            "deliveries"
        ]


@pytest.fixture
def api_for(token):
    """Api(url) for the test's key; every client is closed at teardown."""
    made: list[Api] = []

    def make(url: str) -> Api:
        made.append(Api(url, token))
        return made[-1]

    yield make
    for api in made:
        api.close()


@pytest.fixture
def env(database_url) -> dict[str, str]:
    return {"TIMELINE_DATABASE_URL": database_url, **WEBHOOK_ENV}


@pytest.fixture
def token(keys) -> str:
    return keys.create("alerts", frozenset({"read", "write", "webhooks"}))[1]


@pytest.fixture
def server(env):
    running = ServerProcess(env).start()
    yield running
    running.stop()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def assert_in_order_per_incident(received) -> None:
    """No event arrives before the one before it in its incident (redeliveries of earlier ones allowed)."""
    highest: dict[str, int] = {}
    for request in received:
        incident, version = request.incident, request.version
        if incident in highest:
            assert version <= highest[incident] + 1, f"{incident} v{version} arrived before v{highest[incident] + 1}"
        highest[incident] = max(highest.get(incident, 0), version)


def assert_is_the_stored_event(request, stored: dict) -> None:
    assert request.parse_error is None, request.parse_error
    event, raw = request.event, request.raw
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    assert raw["specversion"] == "1.0" and event.get_specversion() == "1.0"
    assert event.get_id() == raw["id"] == stored["event_id"] == request.webhook_id
    assert event.get_subject() == raw["subject"] == stored["incident_id"]
    assert event.get_type() == f"org.incident-timeline.{stored['type']}.v{stored['schema_version']}"
    assert raw["source"].endswith(f"/v1/incidents/{stored['incident_id']}")
    assert raw["time"] == stored["recorded_at"]
    assert raw["incidentversion"] == stored["version"] and raw["position"] == stored["position"]
    assert raw["data"] == stored["data"] == event.get_data()


# -- the happy path -----------------------------------------------------------------------------


def test_every_event_arrives_verified_parsed_and_in_order(server, api_for, receiver):
    api = api_for(server.url)
    api.append("before")  # not delivered: a subscription starts at the end of the log
    subscription = api.subscribe(receiver)

    def write(incident: str) -> None:
        writer = api_for(server.url)
        for _ in range(8):
            writer.append(incident, 2)

    threads = [threading.Thread(target=write, args=(f"incident-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = api.log(after=subscription["checkpoint"])
    assert len(expected) == 48
    receiver.wait_for(lambda r: len(r.delivered()) >= 48, what="all 48 events")
    received = receiver.delivered()
    assert Counter(r.webhook_id for r in received) == Counter(e["event_id"] for e in expected), "each exactly once"
    by_id = {event["event_id"]: event for event in expected}
    for request in received:
        assert request.verified_with == (0,), "Webhook(secret).verify accepts it"
        assert_is_the_stored_event(request, by_id[request.webhook_id])
    for n in range(3):
        assert [r.version for r in received if r.incident == f"incident-{n}"] == list(range(1, 17))
    wait_until(lambda: api.subscription(subscription["id"])["backlog"] == 0, what="the deliveries recorded")
    log = api.deliveries(subscription["id"])
    assert len(log) == 48 and {entry["status_code"] for entry in log} == {200}
    assert api.subscription(subscription["id"])["checkpoint"] == expected[-1]["position"]


# -- failures -----------------------------------------------------------------------------------


def test_a_receiver_that_fails_times_out_or_is_down_gets_everything_once_it_recovers(server, api_for, receiver):
    api = api_for(server.url)
    mode = {"reply": Reply(500, body=b"database is on fire")}
    receiver.reply = lambda request: mode["reply"]
    subscription = api.subscribe(receiver)

    api.append("alpha", 3)
    api.append("bravo", 2)
    receiver.wait_for(lambda r: len(r.requests) >= 4, what="failing attempts (500)")

    mode["reply"] = Reply(200, hang=True)  # now it hangs past the 1 s timeout

    def retried_after_a_timeout(r: Receiver) -> bool:
        # One attempt per incident is in flight at a time, so a second hanging request for the
        # same event means the first one timed out.
        hanging = Counter(q.webhook_id for q in r.requests if q.status == 0)
        return any(n >= 2 for n in hanging.values())

    receiver.wait_for(retried_after_a_timeout, what="an attempt retried after timing out")

    receiver.stop()  # and now it is down: connections are refused
    api.append("alpha", 2)
    api.append("charlie", 2)

    def refused() -> int:
        return sum(1 for entry in api.deliveries(subscription["id"]) if "ConnectError" in (entry["error"] or ""))

    wait_until(lambda: refused() >= 3, what="attempts against the receiver while it is down")

    mode["reply"] = Reply(200)
    receiver.start()
    expected = api.log(after=subscription["checkpoint"])
    assert len(expected) == 9
    try:
        receiver.wait_for(
            lambda r: r.delivered_ids() == {e["event_id"] for e in expected}, what="everything after recovery"
        )
    except AssertionError as error:
        latest = api.deliveries(subscription["id"])[:10]
        seen = [(q.number, q.webhook_id[:8], q.status, q.complete) for q in receiver.requests]
        raise AssertionError(f"{error}; received {seen}; latest attempts: {latest}") from None
    wait_until(lambda: api.subscription(subscription["id"])["backlog"] == 0, what="the deliveries recorded")

    delivered = receiver.delivered()
    assert_in_order_per_incident(delivered)
    by_id = {event["event_id"]: event for event in expected}
    for request in receiver.requests:
        if request.complete:  # not one cut short when the receiver went down
            assert request.verified_with == (0,)
            assert_is_the_stored_event(request, by_id[request.webhook_id])
    # The events that failed were retried under the same webhook-id, each attempt signed with
    # the time it was made.
    first_event = expected[0]["event_id"]
    attempts = [q for q in receiver.requests if q.webhook_id == first_event]
    assert len(attempts) >= 3
    stamps = [int(q.headers["webhook-timestamp"]) for q in attempts]
    assert stamps == sorted(stamps)
    log = api.deliveries(subscription["id"])
    assert any(entry["status_code"] == 500 and entry["response_body"] == "database is on fire" for entry in log)
    assert any("no complete response within 1 s" in (entry["error"] or "") for entry in log)
    assert all(entry["next_attempt_at"] for entry in log if entry["status_code"] != 200)
    for event_id in {entry["event_id"] for entry in log}:
        numbers = sorted(entry["attempt"] for entry in log if entry["event_id"] == event_id)
        assert numbers == list(range(1, len(numbers) + 1))
    view = api.subscription(subscription["id"])
    assert view["status"] == "active" and view["backlog"] == 0 and view["failing_since"] is None


def test_killing_the_dispatcher_mid_stream_loses_nothing(env, api_for, receiver):
    hung: list[str] = []

    def reply(request):
        if request.number == 10:
            hung.append(request.webhook_id)
            return Reply(200, hang=True)  # the server is killed while this one is in flight
        return Reply(200)

    receiver.reply = reply
    first = ServerProcess(env).start()
    try:
        api = api_for(first.url)
        subscription = api.subscribe(receiver)
        for _ in range(10):
            for incident in ("alpha", "bravo", "charlie", "delta"):
                api.append(incident)
        receiver.wait_for(lambda r: len(r.requests) >= 10, what="the stream under way")
        first.kill()  # SIGKILL: no shutdown, leases left behind
    finally:
        first.stop()
    receiver.release()
    in_flight_at_kill = {q.webhook_id for q in receiver.requests if q.status in (0, -1)} | set(hung)
    delivered_before = len(receiver.delivered())

    second = ServerProcess(env).start()
    try:
        api = api_for(second.url)
        for incident in ("alpha", "echo"):
            api.append(incident, 2)
        expected = api.log(after=subscription["checkpoint"])
        assert len(expected) == 44
        # The restarted dispatcher takes the killed one's deliveries once their 3 s leases lapse.
        receiver.wait_for(
            lambda r: r.delivered_ids() == {e["event_id"] for e in expected}, timeout=60, what="all 44 events"
        )
        wait_until(lambda: api.subscription(subscription["id"])["backlog"] == 0, what="the deliveries recorded")
    finally:
        second.stop()
    delivered = receiver.delivered()
    assert delivered_before < 44
    assert hung[0] in {q.webhook_id for q in delivered}, "the event in flight at the kill was delivered later"
    assert_in_order_per_incident(delivered)
    duplicates = {event_id for event_id, n in Counter(q.webhook_id for q in delivered).items() if n > 1}
    # At least once: only events that may have been in flight when the process died come twice
    # (at most the per-subscription concurrency, 8).
    assert len(duplicates) <= 8
    assert all(q.verified_with == (0,) for q in receiver.requests if q.complete)
    assert in_flight_at_kill


def test_a_410_disables_the_subscription_until_it_is_re_enabled(server, api_for, receiver):
    api = api_for(server.url)
    mode = {"reply": Reply(410, body=b"unsubscribed")}
    receiver.reply = lambda request: mode["reply"]
    subscription = api.subscribe(receiver)
    api.append("alpha", 2)
    wait_until(lambda: api.subscription(subscription["id"])["status"] == "disabled", what="the 410 to disable it")
    view = api.subscription(subscription["id"])
    assert "410" in view["disabled_reason"] and view["disabled_at"]
    assert view["backlog"] == 2  # kept: nothing is lost by disabling
    api.append("alpha", 1)
    api.append("bravo", 1)
    mode["reply"] = Reply(200)
    enabled = api.client.patch(f"/v1/subscriptions/{subscription['id']}", json={"paused": False})
    assert enabled.json()["status"] == "active"
    expected = api.log(after=subscription["checkpoint"])
    receiver.wait_for(lambda r: r.delivered_ids() == {e["event_id"] for e in expected}, what="everything held")
    # Exactly one request was answered 410; nothing was attempted while disabled.
    assert [q.status for q in receiver.requests].count(410) == 1
    assert len(receiver.requests) == 1 + len(expected)


# -- replay and rotation -------------------------------------------------------------------------


def test_replay_resends_from_a_position(server, api_for, receiver):
    api = api_for(server.url)
    subscription = api.subscribe(receiver)
    api.append("alpha", 3)
    api.append("bravo", 3)
    expected = api.log(after=subscription["checkpoint"])
    receiver.wait_for(lambda r: len(r.delivered()) == 6, what="the first delivery")
    wait_until(lambda: api.subscription(subscription["id"])["backlog"] == 0, what="the deliveries recorded")
    from_position = expected[2]["position"]
    replay = api.client.post(f"/v1/subscriptions/{subscription['id']}/replay", json={"from_position": from_position})
    assert replay.status_code == 202 and replay.json()["queued"] == 4
    receiver.wait_for(lambda r: len(r.delivered()) == 10, what="the replay")
    replayed = receiver.delivered()[6:]
    assert sorted(q.webhook_id for q in replayed) == sorted(e["event_id"] for e in expected[2:])
    assert_in_order_per_incident(replayed)
    assert all(q.verified_with == (0,) for q in replayed)


def test_rotation_verifies_with_either_secret_during_the_grace_period(server, api_for, receiver):
    api = api_for(server.url)
    subscription = api.subscribe(receiver)  # receiver.secrets[0]: the original secret
    api.append("alpha")
    receiver.wait_for(lambda r: len(r.delivered()) == 1)
    rotated = api.client.post(f"/v1/subscriptions/{subscription['id']}/rotate-secret").json()
    receiver.secrets.append(rotated["secret"])  # receiver.secrets[1]: the new one
    api.append("alpha")
    receiver.wait_for(lambda r: len(r.delivered()) == 2)
    during = receiver.delivered()[1]
    # A receiver still holding the old secret verifies, and so does one with the new secret.
    assert during.verified_with == (0, 1)
    assert receiver.delivered()[0].verified_with == (0,)
    # Ending the grace period (a rotation with grace 0) leaves only the newest secret signing.
    newest = api.client.post(f"/v1/subscriptions/{subscription['id']}/rotate-secret", json={"grace_seconds": 0}).json()
    receiver.secrets.append(newest["secret"])
    api.append("alpha")
    receiver.wait_for(lambda r: len(r.delivered()) == 3)
    assert receiver.delivered()[2].verified_with == (2,)


# -- several workers ---------------------------------------------------------------------------


class Worker:
    """`timeline worker` in its own process."""

    def __init__(self, env: dict[str, str], log_path):
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env={**os.environ, **env},
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def test_two_workers_share_the_work_and_send_each_event_once(env, api_for, receiver, tmp_path):
    api_env = {**env, "TIMELINE_WEBHOOK_DISPATCHER": "false"}
    server = ServerProcess(api_env).start()
    workers = [Worker(env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        api = api_for(server.url)
        subscription = api.subscribe(receiver)
        for _ in range(6):
            for incident in range(6):
                api.append(f"incident-{incident}")
        expected = api.log(after=subscription["checkpoint"])
        receiver.wait_for(lambda r: len(r.delivered()) >= len(expected), what="every event")
        wait_until(lambda: api.subscription(subscription["id"])["backlog"] == 0, what="the deliveries recorded")
    finally:
        codes = [worker.stop() for worker in workers]
        server.stop()
    assert codes == [0, 0], "SIGTERM stops a worker cleanly"
    for n in range(2):
        assert "webhook dispatcher stopped" in (tmp_path / f"worker{n}.log").read_text()
    received = receiver.delivered()
    assert Counter(q.webhook_id for q in received) == Counter(e["event_id"] for e in expected)
    for incident in range(6):
        assert [q.version for q in received if q.incident == f"incident-{incident}"] == [1, 2, 3, 4, 5, 6]
