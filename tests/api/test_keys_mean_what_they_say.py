"""Keys that mean what they say: a revoked key's subscriptions pause and an admin hands them on;
a key without `read` may still make reads that need no key; the widget page follows public_read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.access import revoke_key
from app.api.main import create_app
from app.webhooks.subscriptions import OwnerRevoked, Subscriptions

URL = "https://hooks.newsroom.example/timeline"
PROBLEM = "application/problem+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def owner(keys):
    key, secret = keys.create("alerts", frozenset({"webhooks"}))
    return key, bearer(secret)


@pytest.fixture
def heir(keys):
    key, secret = keys.create("another desk", frozenset({"webhooks"}))
    return key, bearer(secret)


@pytest.fixture
def admin(keys) -> dict[str, str]:
    return bearer(keys.create("root", frozenset({"admin"}))[1])


def create(client, headers, **body) -> dict:
    response = client.post("/v1/subscriptions", json={"url": URL, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def append(client, writer, incident: str, count: int) -> None:
    events = [{"type": "IncidentRevised", "data": {"summary": f"update {n}"}} for n in range(count)]
    response = client.post(f"/v1/incidents/{incident}/events", json={"events": events}, headers=writer)
    assert response.status_code == 201, response.text


def hand_over(client, headers, subscription_id: str, key_id: str):
    return client.post(f"/v1/subscriptions/{subscription_id}/owner", json={"key_id": key_id}, headers=headers)


# -- revocation pauses what the key owns -------------------------------------------------------


def test_revoking_a_key_pauses_every_subscription_it_owns_with_the_reason(client, keys, engine, owner, heir):
    key, headers = owner
    running = create(client, headers)
    paused = create(client, headers)
    assert client.patch(f"/v1/subscriptions/{paused['id']}", json={"paused": True}, headers=headers).status_code == 200
    others = create(client, heir[1])

    revocation = revoke_key(keys.engine, key.id)

    assert revocation is not None and [k.id for k in revocation.revoked] == [key.id]
    assert sorted(revocation.paused) == sorted([running["id"], paused["id"]])
    repo = Subscriptions(engine)
    for subscription in (running, paused):
        status, reason = repo.status(subscription["id"])
        assert status == "paused"
        assert reason.startswith(f"the API key that owns it (alerts, id {key.id}) was revoked on ")
    assert repo.status(others["id"]) == ("active", None)
    # The revoked key can do nothing with them any more.
    response = client.patch(f"/v1/subscriptions/{running['id']}", json={"paused": False}, headers=headers)
    assert response.status_code == 401
    assert revoke_key(keys.engine, key.id) is None  # revoking twice: no active key


def test_a_subscription_under_a_revoked_owner_cannot_be_resumed_even_by_that_owner(keys, engine, owner):
    """The API refuses a revoked key before any of this; a request authenticated just before the
    revocation committed reaches the repository, which checks again under the row lock."""
    key, _ = owner
    repo = Subscriptions(engine)
    subscription, _ = repo.create(key.id, URL)
    revoke_key(keys.engine, key.id)
    with pytest.raises(OwnerRevoked, match="belongs to a revoked API key"):
        repo.update(key.id, subscription.id, {"paused": False})
    assert repo.status(subscription.id)[0] == "paused"


# -- the hand-over route -----------------------------------------------------------------------


def test_only_an_admin_hands_a_subscription_over(client, owner, heir, writer):
    subscription = create(client, owner[1])
    for headers, status, says in (
        (None, 401, "'admin' scope"),
        (owner[1], 403, "'admin' scope"),
        (heir[1], 403, "'admin' scope"),
        (writer, 403, "'admin' scope"),
    ):
        response = hand_over(client, headers, subscription["id"], heir[0].id)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert says in response.json()["detail"]
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=owner[1]).json()["owner_key_id"] == owner[0].id


def test_handing_over_needs_a_known_subscription_and_a_key_that_can_own_it(client, keys, admin, owner, heir, reader):
    subscription = create(client, owner[1])
    missing = hand_over(client, admin, "no-such-subscription", heir[0].id)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["type"].endswith("/subscription-not-found")

    revoked_key, _ = keys.create("gone", frozenset({"webhooks"}))
    revoke_key(keys.engine, revoked_key.id)
    read_only = keys.create("reads only", frozenset({"read"}))[0]
    for key_id, says in (
        ("no-such-key", "there is no API key 'no-such-key'"),
        (revoked_key.id, "has been revoked"),
        (read_only.id, "lacks the 'webhooks' scope"),
        (heir[0].prefix, "there is no API key"),
    ):  # an id, not a prefix
        response = hand_over(client, admin, subscription["id"], key_id)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["type"].endswith("/unusable-owner") and says in body["detail"]
        assert body["errors"][0]["field"] == "key_id"
    assert hand_over(client, admin, subscription["id"], "").status_code == 422
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=owner[1]).json()["owner_key_id"] == owner[0].id


def test_a_revoked_keys_subscription_is_handed_over_and_only_the_new_owner_resumes_it(
    client, keys, admin, owner, heir, writer, incident
):
    key, headers = owner
    subscription = create(client, headers)
    path = f"/v1/subscriptions/{subscription['id']}"
    revoke_key(keys.engine, key.id)
    append(client, writer, incident, 3)  # held for it: nothing is skipped while it is paused

    # Nobody else sees it, so nobody else can resume it: not the admin, not the future owner.
    for other in (admin, heir[1]):
        assert client.patch(path, json={"paused": False}, headers=other).status_code == 404

    handed = hand_over(client, admin, subscription["id"], heir[0].id)
    assert handed.status_code == 200, handed.text
    body = handed.json()
    assert body["owner_key_id"] == heir[0].id and body["status"] == "paused" and body["paused"] is True
    assert "was revoked on" in body["disabled_reason"]
    assert f"handed over to the API key another desk (id {heir[0].id})" in body["disabled_reason"]
    assert body["checkpoint"] == subscription["checkpoint"] and body["backlog"] == 3
    assert "secret" not in body

    assert client.get(path, headers=heir[1]).json()["status"] == "paused"
    assert client.get(path, headers=admin).status_code == 404  # the admin handed it on, it does not own it
    resumed = client.patch(path, json={"paused": False}, headers=heir[1])
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "active" and resumed.json()["disabled_reason"] is None
    assert resumed.json()["backlog"] == 3


def test_a_running_subscription_can_be_handed_over_and_keeps_running(client, admin, owner, heir):
    subscription = create(client, owner[1])
    body = hand_over(client, admin, subscription["id"], heir[0].id).json()
    assert (body["owner_key_id"], body["status"], body["disabled_reason"]) == (heir[0].id, "active", None)
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=owner[1]).status_code == 404


def test_revocation_can_hand_the_subscriptions_over_in_the_same_step(client, keys, owner, heir, engine):
    key, headers = owner
    subscription = create(client, headers)
    revocation = revoke_key(keys.engine, key.prefix, hand_over_to=heir[0].prefix)
    assert revocation.handed_over_to.id == heir[0].id and list(revocation.paused) == [subscription["id"]]
    body = client.get(f"/v1/subscriptions/{subscription['id']}", headers=heir[1]).json()
    assert body["status"] == "paused" and body["owner_key_id"] == heir[0].id


def test_revocation_refuses_an_heir_that_cannot_own_and_then_revokes_nothing(client, keys, owner, engine):
    from app.webhooks.subscriptions import UnusableOwner

    key, headers = owner
    subscription = create(client, headers)
    read_only = keys.create("reads only", frozenset({"read"}))[0]
    for heir_id, says in ((read_only.id, "lacks the 'webhooks' scope"), (key.id, "the one being revoked")):
        with pytest.raises(UnusableOwner, match=says):
            revoke_key(keys.engine, key.id, hand_over_to=heir_id)
    assert client.get(f"/v1/subscriptions/{subscription['id']}", headers=headers).json()["status"] == "active"


# -- reads that need no key --------------------------------------------------------------------


@pytest.fixture
def private_client(settings, engine):
    app = create_app(settings.model_copy(update={"public_read": False}), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as private:
        yield private


@pytest.mark.parametrize("scopes", [{"write"}, {"webhooks"}, {"write", "webhooks"}])
def test_a_key_without_read_may_read_what_needs_no_key(client, private_client, keys, incident, scopes):
    headers = bearer(keys.create("no reads", frozenset(scopes))[1])
    public = client.get("/v1/incidents", headers=headers)
    assert public.status_code == 200, public.text
    assert [i["id"] for i in public.json()["incidents"]] == [incident]
    assert client.get(f"/v1/incidents/{incident}/timeline", headers=headers).status_code == 200

    private = private_client.get("/v1/incidents", headers=headers)
    assert private.status_code == 403 and private.headers["content-type"] == PROBLEM
    assert "lacks the 'read' scope" in private.json()["detail"]
    assert private_client.get("/v1/incidents").status_code == 401
    # A bad key is still a bad key, public reads or not.
    assert client.get("/v1/incidents", headers=bearer("tl_bad")).status_code == 401


def test_a_read_key_reads_whether_reads_are_public_or_not(client, private_client, reader, incident):
    for c in (client, private_client):
        assert c.get("/v1/incidents", headers=reader).status_code == 200


# -- the widget page with private reads --------------------------------------------------------


def test_with_private_reads_the_widget_page_tells_nothing_about_the_incident(private_client, client, incident):
    title = "Shooting of Alex Pretti"
    existing = private_client.get(f"/widget/incidents/{incident}")
    missing = private_client.get("/widget/incidents/no-such-incident")
    for response in (existing, missing):
        assert response.status_code == 200
        assert title not in response.text and "Pretti" not in response.text.replace(incident, "")
        assert 'data-needs-key="true"' in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "<script>" not in response.text  # no inline script: the CSP stays as it is
    # The same page, but for the id it was asked about (which the visitor typed in).
    assert existing.text.replace(incident, "ID") == missing.text.replace("no-such-incident", "ID")

    def same(headers) -> dict:
        return {name: value for name, value in headers.items() if name != "content-length"}

    assert same(existing.headers) == same(missing.headers)
    # Its assets hold no data and are served without a key.
    assert private_client.get("/static/timeline-widget.js").status_code == 200
    assert private_client.get("/static/timeline-widget.css").status_code == 200
    # With public reads the page is as before: titled, and a 404 for an unknown incident.
    assert title in client.get(f"/widget/incidents/{incident}").text
    assert client.get("/widget/incidents/no-such-incident").status_code == 404
