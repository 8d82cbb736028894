"""A revoked key's webhooks end to end: the real `timeline serve` (with its dispatcher), the real
`timeline keys revoke`, real receivers.

Two subscriptions follow the same incident: one owned by the key that is revoked, one by another
key. The other one is the witness that the dispatcher has handled the events appended after the
revocation; only then does a bounded wait show that the revoked key's receiver stays silent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from app.webhooks.subscriptions import Subscriptions
from tests.support.live import ServerProcess, timeline
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e

WEBHOOK_ENV = {
    "TIMELINE_WEBHOOK_ALLOW_HTTP": "true",
    "TIMELINE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
    "TIMELINE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.5,1",
    "TIMELINE_WEBHOOK_TIMEOUT": "1",
    "TIMELINE_WEBHOOK_LEASE": "3",
}
INCIDENT = "story"
SILENCE_SECONDS = 1.5  # several dispatcher polls (0.5 s each) after the witness got everything


@pytest.fixture
def env(database_url) -> dict[str, str]:
    return {"TIMELINE_DATABASE_URL": database_url, **WEBHOOK_ENV}


@pytest.fixture
def server(env) -> Iterator[ServerProcess]:
    running = ServerProcess(env).start()
    yield running
    running.stop()


@pytest.fixture
def clients(server) -> Iterator[Callable[[str | None], httpx.Client]]:
    made: list[httpx.Client] = []

    def client(secret: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        made.append(httpx.Client(base_url=server.url, headers=headers, timeout=10))
        return made[-1]

    yield client
    for made_client in made:
        made_client.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(0.05)  # a polling interval, not a wait for an outcome


def subscribe(client: httpx.Client, receiver: Receiver) -> dict:
    response = client.post("/v1/subscriptions", json={"url": receiver.url, "incidents": [INCIDENT]})
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    return response.json()


def append(client: httpx.Client, count: int) -> None:
    events = [{"type": "IncidentRevised", "data": {"summary": f"update {n}"}} for n in range(count)]
    response = client.post(f"/v1/incidents/{INCIDENT}/events", json={"events": events})
    assert response.status_code == 201, response.text


def assert_silent(receiver: Receiver, seen: int, seconds: float) -> None:
    """No request beyond the first `seen` arrives within `seconds` (any request ends the wait early)."""
    try:
        receiver.wait_for(lambda r: len(r.requests) > seen, timeout=seconds)
    except AssertionError:
        return
    late = receiver.requests[seen]
    raise AssertionError(f"a delivery arrived for a paused subscription: v{late.version} ({late.webhook_id})")


def stored_events(client: httpx.Client) -> list[dict]:
    response = client.get(f"/v1/incidents/{INCIDENT}/events", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()["events"]


def test_a_revoked_keys_subscription_sends_nothing_until_handed_over_and_resumed(env, server, clients, keys, engine):
    owner, owner_secret = keys.create("alerts", frozenset({"webhooks"}))
    heir, heir_secret = keys.create("another desk", frozenset({"webhooks"}))
    as_owner, as_heir = clients(owner_secret), clients(heir_secret)
    as_admin = clients(keys.create("root", frozenset({"admin"}))[1])
    as_writer = clients(keys.create("newsdesk", frozenset({"write", "read"}))[1])

    with Receiver() as receiver, Receiver() as witness:
        mine, theirs = subscribe(as_owner, receiver), subscribe(as_heir, witness)
        opened = as_writer.post("/v1/incidents", json={"id": INCIDENT, "title": "A story"})
        assert opened.status_code == 201, opened.text
        append(as_writer, 2)
        receiver.wait_for(lambda r: len(r.delivered()) == 3, what="the first three events")
        # Recorded too (the queue is empty, nothing in flight), so what follows starts clean.
        wait_until(
            lambda: as_owner.get(f"/v1/subscriptions/{mine['id']}").json()["backlog"] == 0,
            what="the first deliveries recorded",
        )

        revoked = timeline("keys", "revoke", owner.id, env=env)
        assert f"paused its 1 webhook subscription(s): {mine['id']}" in revoked.stdout
        assert as_owner.get(f"/v1/subscriptions/{mine['id']}").status_code == 401

        append(as_writer, 4)
        witness.wait_for(lambda r: len(r.delivered()) == 7, what="the witness to get all seven events")
        assert_silent(receiver, 3, SILENCE_SECONDS)
        status, reason = Subscriptions(engine).status(mine["id"])
        assert status == "paused"
        assert reason.startswith(f"the API key that owns it (alerts, id {owner.id}) was revoked on ")

        # Until an admin hands it on, nobody else can so much as see it; then its new owner resumes it.
        assert as_heir.patch(f"/v1/subscriptions/{mine['id']}", json={"paused": False}).status_code == 404
        handed = as_admin.post(f"/v1/subscriptions/{mine['id']}/owner", json={"key_id": heir.id})
        assert handed.status_code == 200, handed.text
        assert handed.json()["status"] == "paused" and handed.json()["backlog"] == 4
        assert_silent(receiver, 3, 0.5)  # handed over, still paused
        resumed = as_heir.patch(f"/v1/subscriptions/{mine['id']}", json={"paused": False})
        assert resumed.status_code == 200 and resumed.json()["status"] == "active", resumed.text

        receiver.wait_for(lambda r: len(r.delivered()) == 7, what="the four held events")
        stored = stored_events(as_writer)
        assert [r.webhook_id for r in receiver.delivered()] == [e["event_id"] for e in stored]
        held = receiver.delivered()[3:]
        assert [r.version for r in held] == [4, 5, 6, 7]  # in order, none skipped, none twice
        assert all(r.verified_with == (0,) for r in receiver.requests)
        wait_until(
            lambda: as_heir.get(f"/v1/subscriptions/{mine['id']}").json()["backlog"] == 0,
            what="the held deliveries recorded",
        )
        log = as_heir.get(f"/v1/subscriptions/{mine['id']}/deliveries", params={"limit": 100}).json()["deliveries"]
        assert len(log) == 7 and {entry["status_code"] for entry in log} == {200}
        assert [r.version for r in witness.delivered()] == list(range(1, 8))
        assert as_heir.get(f"/v1/subscriptions/{theirs['id']}").json()["status"] == "active"


def test_revoke_can_hand_the_subscriptions_to_another_key(env, keys, engine):
    owner, _ = keys.create("alerts", frozenset({"webhooks"}))
    heir, _ = keys.create("another desk", frozenset({"webhooks"}))
    reads_only, _ = keys.create("analyst", frozenset({"read"}))
    repo = Subscriptions(engine)
    subscription, _ = repo.create(owner.id, "https://hooks.newsroom.example/timeline")

    refused = timeline("keys", "revoke", owner.id, "--hand-over-to", reads_only.prefix, env=env, check=False)
    assert refused.returncode == 1
    assert "lacks the 'webhooks' scope" in refused.stderr and "nothing was revoked" in refused.stderr
    assert repo.status(subscription.id) == ("active", None)

    result = timeline("keys", "revoke", owner.prefix, "--hand-over-to", heir.prefix, env=env)
    assert f"they now belong to another desk ({heir.id})" in result.stdout
    handed = repo.get(heir.id, subscription.id)
    assert handed.status == "paused" and "handed over to the API key another desk" in handed.disabled_reason
    resumed = repo.update(heir.id, subscription.id, {"paused": False})
    assert resumed.status == "active"
