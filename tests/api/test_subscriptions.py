"""The subscriptions API in process: scopes, ownership, validation, secrets shown once, replay, the log."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.webhooks.tables import webhook_secrets

URL = "https://hooks.newsroom.example/timeline"


@pytest.fixture
def manager(keys) -> dict[str, str]:
    _, secret = keys.create("alerts", frozenset({"webhooks"}))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def other_manager(keys) -> dict[str, str]:
    _, secret = keys.create("another desk", frozenset({"webhooks"}))
    return {"Authorization": f"Bearer {secret}"}


def create(client, headers, **body):
    response = client.post("/v1/subscriptions", json={"url": URL, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def append(client, writer, incident: str, count: int) -> list[int]:
    events = [{"type": "IncidentRevised", "data": {"summary": f"update {n}"}} for n in range(count)]
    response = client.post(f"/v1/incidents/{incident}/events", json={"events": events}, headers=writer)
    assert response.status_code == 201, response.text
    return response.json()["positions"]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- scopes and ownership -------------------------------------------------------------------


def test_subscriptions_need_the_webhooks_scope(client, writer, reader):
    assert client.get("/v1/subscriptions").status_code == 401
    assert client.post("/v1/subscriptions", json={"url": URL}).status_code == 401
    for headers in (writer, reader):
        response = client.post("/v1/subscriptions", json={"url": URL}, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "webhooks" in response.json()["detail"]


def test_an_admin_key_may_manage_webhooks(client, keys):
    _, secret = keys.create("root", frozenset({"admin"}))
    created = create(client, {"Authorization": f"Bearer {secret}"})
    assert created["status"] == "active"


def test_a_key_sees_and_manages_only_its_own_subscriptions(client, manager, other_manager):
    mine = create(client, manager, description="mine")
    theirs = create(client, other_manager, description="theirs")
    assert [s["id"] for s in client.get("/v1/subscriptions", headers=manager).json()["subscriptions"]] == [mine["id"]]
    path = f"/v1/subscriptions/{theirs['id']}"
    attempts = [
        client.get(path, headers=manager),
        client.patch(path, json={"paused": True}, headers=manager),
        client.post(f"{path}/rotate-secret", headers=manager),
        client.get(f"{path}/deliveries", headers=manager),
        client.post(f"{path}/replay", json={"from_position": 1}, headers=manager),
        client.delete(path, headers=manager),
    ]
    for response in attempts:
        assert response.status_code == 404, response.text
        assert response.json()["type"].endswith("/subscription-not-found")
    assert client.get(path, headers=other_manager).json()["status"] == "active"


# -- create, read, secrets --------------------------------------------------------------------


def test_create_returns_the_secret_once_and_never_again(client, manager, engine):
    created = create(
        client, manager, incidents=["alex-pretti-shooting"], types=["AssertionRecorded"], description="alerts"
    )
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["url"] == URL
    assert created["incidents"] == ["alex-pretti-shooting"] and created["types"] == ["AssertionRecorded"]
    assert created["status"] == "active" and created["paused"] is False and created["backlog"] == 0
    path = f"/v1/subscriptions/{created['id']}"
    responses = [
        client.get(path, headers=manager),
        client.get("/v1/subscriptions", headers=manager),
        client.patch(path, json={"description": "renamed"}, headers=manager),
        client.get(f"{path}/deliveries", headers=manager),
    ]
    for response in responses:
        assert response.status_code == 200
        assert secret not in response.text and "whsec_" not in response.text
    # Stored for signing (the dispatcher needs the key itself), but only ever returned at creation.
    with engine.connect() as conn:
        assert conn.execute(sa.select(webhook_secrets.c.secret)).scalars().all() == [secret]


def test_create_sets_location_and_starts_at_the_end_of_the_log(client, manager, writer, incident):
    append(client, writer, incident, 3)  # positions 2..4 after IncidentOpened at 1
    response = client.post("/v1/subscriptions", json={"url": URL}, headers=manager)
    assert response.headers["location"] == f"/v1/subscriptions/{response.json()['id']}"
    assert response.json()["checkpoint"] == 4
    assert create(client, manager, from_position=2)["checkpoint"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": URL, "types": ["NoSuchEvent"]}, "types"),
        ({"url": URL, "types": []}, "types"),
        ({"url": URL, "incidents": ["Not A Slug"]}, "incidents[0]"),
        ({"url": URL, "incidents": []}, "incidents"),
        ({"url": URL, "from_position": 0}, "from_position"),
        ({"url": URL, "secret": "whsec_mine"}, "secret"),
        ({"url": ""}, "url"),
        ({}, "url"),
    ],
)
def test_bad_subscriptions_are_refused_with_the_field_named(client, manager, body, field):
    response = client.post("/v1/subscriptions", json=body, headers=manager)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://hooks.newsroom.example/", "must use https"),
        ("ftp://hooks.newsroom.example/", "must use https"),
        ("https://user:pw@hooks.newsroom.example/", "user name or password"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::ffff:192.168.0.1]/", "private"),
        ("not a url", "https"),
    ],
)
def test_unsafe_urls_are_refused_when_created_or_changed(client, manager, url, says):
    response = client.post("/v1/subscriptions", json={"url": url}, headers=manager)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/webhook-url-refused")
    assert says in problem["detail"] and problem["errors"][0]["field"] == "url"
    created = create(client, manager)
    changed = client.patch(f"/v1/subscriptions/{created['id']}", json={"url": url}, headers=manager)
    assert changed.status_code == 422 and says in changed.json()["detail"]
    assert client.get(f"/v1/subscriptions/{created['id']}", headers=manager).json()["url"] == URL


def test_a_json_body_is_required(client, manager):
    response = client.post("/v1/subscriptions", content=f"url={URL}", headers={**manager, "content-type": "text/plain"})
    assert response.status_code == 415


# -- update, pause, delete ---------------------------------------------------------------------


def test_update_changes_only_what_is_given(client, manager):
    created = create(client, manager, incidents=["a-one"], description="first")
    path = f"/v1/subscriptions/{created['id']}"
    changed = client.patch(path, json={"url": URL + "/v2", "types": ["AssertionRecorded"]}, headers=manager).json()
    assert changed["url"] == URL + "/v2" and changed["types"] == ["AssertionRecorded"]
    assert changed["incidents"] == ["a-one"] and changed["description"] == "first"
    widened = client.patch(path, json={"incidents": None}, headers=manager).json()
    assert widened["incidents"] is None and widened["types"] == ["AssertionRecorded"]
    assert parse_time(widened["updated_at"]) >= parse_time(created["updated_at"])
    assert client.patch(path, json={"url": None}, headers=manager).status_code == 422
    assert client.patch(path, json={"status": "active"}, headers=manager).status_code == 422


def test_pause_and_resume(client, manager):
    path = f"/v1/subscriptions/{create(client, manager)['id']}"
    paused = client.patch(path, json={"paused": True}, headers=manager).json()
    assert paused["status"] == "paused" and paused["paused"] is True
    resumed = client.patch(path, json={"paused": False}, headers=manager).json()
    assert resumed["status"] == "active" and resumed["disabled_reason"] is None


def test_delete(client, manager):
    path = f"/v1/subscriptions/{create(client, manager)['id']}"
    assert client.delete(path, headers=manager).status_code == 204
    assert client.get(path, headers=manager).status_code == 404
    assert client.delete(path, headers=manager).status_code == 404


# -- rotation, replay, deliveries ---------------------------------------------------------------


def test_rotate_secret_returns_a_new_secret_and_the_grace_period(client, manager, engine, settings):
    created = create(client, manager)
    path = f"/v1/subscriptions/{created['id']}"
    rotated = client.post(f"{path}/rotate-secret", headers=manager)
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    until = parse_time(rotated.json()["previous_secret_expires_at"])
    expected = datetime.now(timezone.utc) + timedelta(seconds=settings.webhook_rotation_grace_seconds)
    assert abs((until - expected).total_seconds()) < 60
    view = client.get(path, headers=manager).json()
    assert view["previous_secret_expires_at"] == rotated.json()["previous_secret_expires_at"]
    assert new not in client.get(path, headers=manager).text
    short = client.post(f"{path}/rotate-secret", json={"grace_seconds": 0}, headers=manager)
    assert short.status_code == 200
    assert client.get(path, headers=manager).json()["previous_secret_expires_at"] is None
    with engine.connect() as conn:
        live = (
            conn.execute(
                sa.select(webhook_secrets.c.secret).where(
                    sa.or_(
                        webhook_secrets.c.expires_at.is_(None),
                        webhook_secrets.c.expires_at > datetime.now(timezone.utc),
                    )
                )
            )
            .scalars()
            .all()
        )
    assert live == [short.json()["secret"]]
    too_long = client.post(f"{path}/rotate-secret", json={"grace_seconds": 10**9}, headers=manager)
    assert too_long.status_code == 422


def test_replay_queues_matching_events_from_a_position(client, manager, writer, incident):
    created = create(client, manager, from_position=1, types=["IncidentRevised"])
    path = f"/v1/subscriptions/{created['id']}"
    positions = append(client, writer, incident, 4)  # 2..5; nothing is fanned out (no dispatcher here)
    response = client.post(f"{path}/replay", json={"from_position": 3}, headers=manager)
    assert response.status_code == 202
    # Events after the checkpoint (0) are the fan-out's to queue, not the replay's.
    assert response.json() == {"id": created["id"], "from_position": 3, "queued": 0}
    later = create(client, manager, types=["IncidentRevised"])
    replayed = client.post(f"/v1/subscriptions/{later['id']}/replay", json={"from_position": 3}, headers=manager)
    assert replayed.json()["queued"] == len([p for p in positions if p >= 3])
    assert client.get(f"/v1/subscriptions/{later['id']}", headers=manager).json()["backlog"] == 3
    again = client.post(f"/v1/subscriptions/{later['id']}/replay", json={"from_position": 1}, headers=manager)
    assert again.json()["queued"] == 1  # position 2: 3..5 are already on their way, never twice
    assert client.post(f"{path}/replay", json={"from_position": 0}, headers=manager).status_code == 422
    assert client.post(f"{path}/replay", json={}, headers=manager).status_code == 422


def test_the_delivery_log_starts_empty_and_pages(client, manager):
    created = create(client, manager)
    response = client.get(f"/v1/subscriptions/{created['id']}/deliveries", headers=manager)
    assert response.status_code == 200
    assert response.json() == {"deliveries": [], "next_before": None}
    assert client.get(f"/v1/subscriptions/{created['id']}/deliveries?limit=0", headers=manager).status_code == 422


def test_the_delivery_log_shows_each_attempt(settings, engine, keys):
    """With the dispatcher running inside the app (as `timeline serve` runs it) and a real receiver."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from tests.support.webhook_receiver import Receiver, Reply

    settings = settings.model_copy(
        update=dict(
            webhook_dispatcher=True,
            webhook_allow_http=True,
            webhook_allow_networks=("127.0.0.0/8",),
            webhook_retry_schedule="0.05",
            webhook_poll_seconds=5.0,
            webhook_timeout_seconds=2,
            webhook_lease_seconds=5,
        )
    )
    _, token = keys.create("desk", frozenset({"write", "webhooks"}))
    headers = {"Authorization": f"Bearer {token}"}
    answers = iter([Reply(503, {"Retry-After": "0"}, b"busy"), Reply(200, body=b"thanks")])
    with Receiver() as receiver, TestClient(create_app(settings, engine=engine)) as client:
        receiver.reply = lambda request: next(answers)
        created = create(client, headers, url=receiver.url)
        receiver.secrets.append(created["secret"])
        opened = client.post("/v1/incidents", json={"id": "logged", "title": "Logged"}, headers=headers)
        assert opened.status_code == 201
        # The poll interval is 5 s: an in-process append wakes the dispatcher long before that.
        receiver.wait_for(lambda r: len(r.delivered()) == 1, timeout=4, what="the delivery")
        path = f"/v1/subscriptions/{created['id']}/deliveries"
        deadline = datetime.now(timezone.utc) + timedelta(seconds=10)
        while len(log := client.get(path, headers=headers).json()["deliveries"]) < 2:
            assert datetime.now(timezone.utc) < deadline, "the second attempt was never logged"
            threading.Event().wait(0.02)  # a polling interval
        retried, first = log  # newest first
    event_id = receiver.requests[0].webhook_id
    assert first["event_id"] == retried["event_id"] == event_id
    assert (first["attempt"], first["status_code"], first["response_body"]) == (1, 503, "busy")
    assert first["error"] is None and first["next_attempt_at"] is not None
    assert (retried["attempt"], retried["status_code"], retried["next_attempt_at"]) == (2, 200, None)
    assert retried["response_body"] == "thanks" and retried["latency_ms"] >= 0
    assert parse_time(retried["attempted_at"]) >= parse_time(first["next_attempt_at"])
    assert receiver.requests[0].verified_with == receiver.requests[1].verified_with == (0,)
