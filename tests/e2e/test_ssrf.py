"""SSRF protection end to end: the real server refuses internal destinations, and none receives a request.

Receivers listen on loopback addresses, which are themselves refused unless allow-listed: a
request that slipped past the policy would arrive and be counted. No test here sends anything
to a non-loopback address: those are refused before any connection is attempted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from tests.support.live import ServerProcess
from tests.support.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.e2e

BASE_ENV = {
    "TIMELINE_WEBHOOK_ALLOW_HTTP": "true",
    "TIMELINE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.5,1",
    "TIMELINE_WEBHOOK_TIMEOUT": "1",
    "TIMELINE_WEBHOOK_LEASE": "3",
}

# (host as written in the URL, what the refusal calls it)
BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.1", "loopback"),  # legacy shorthand that getaddrinfo accepts
    ("2130706433", "loopback"),  # 127.0.0.1 as one decimal number
    ("0x7f.0.0.1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata endpoints live here
    ("100.64.0.1", "shared"),  # carrier-grade NAT
    ("224.0.0.1", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.18.0.1", "reserved"),
    ("[::1]", "loopback"),
    ("[::]", "unspecified"),
    ("[fe80::1]", "link-local"),
    ("[fd12:3456::1]", "private"),
    ("[ff02::1]", "multicast"),
    ("[2001:db8::1]", "reserved"),
    ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
    ("[::ffff:10.0.0.1]", "private"),
    ("[::ffff:169.254.169.254]", "link-local"),
    ("[64:ff9b::a00:1]", "private"),  # NAT64 of 10.0.0.1
]


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(0.05)  # a polling interval


@pytest.fixture
def client_for(keys):
    _, token = keys.create("alerts", frozenset({"write", "webhooks"}))
    made: list[httpx.Client] = []

    def make(url: str) -> httpx.Client:
        made.append(httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def start(database_url: str, **env: str) -> ServerProcess:
    return ServerProcess({"TIMELINE_DATABASE_URL": database_url, **BASE_ENV, **env}).start()


def refusals(client: httpx.Client, subscription_id: str) -> list[dict]:
    log = client.get(f"/v1/subscriptions/{subscription_id}/deliveries").json()["deliveries"]
    return [entry for entry in log if "refused by the destination policy" in (entry["error"] or "")]


def test_every_blocked_range_is_refused_when_subscribing(database_url, client_for, receiver):
    server = start(database_url)
    try:
        client = client_for(server.url)
        wrong = []
        for host, kind in BLOCKED:
            for url in (f"http://{host}:{receiver.port}/hook", f"https://{host}/hook"):
                response = client.post("/v1/subscriptions", json={"url": url})
                problem = response.json()
                if response.status_code != 422 or problem.get("refusal") != kind:
                    wrong.append((url, response.status_code, problem.get("refusal"), problem.get("detail")))
                elif "refused" not in problem["detail"] or problem["errors"][0]["field"] != "url":
                    wrong.append((url, "unclear message", problem["detail"]))
        assert wrong == []
        assert client.get("/v1/subscriptions").json()["subscriptions"] == []
    finally:
        server.stop()
    assert receiver.connections == 0 and receiver.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_at_connect_time(database_url, client_for, receiver):
    server = start(database_url)
    try:
        client = client_for(server.url)
        # A host name is only resolved when a delivery connects, so the subscription is
        # accepted, and every delivery is refused by the connect-time check.
        created = client.post("/v1/subscriptions", json={"url": f"http://localhost:{receiver.port}/hook"})
        assert created.status_code == 201, created.text
        assert client.post("/v1/incidents", json={"id": "probe", "title": "Probe"}).status_code == 201
        subscription_id = created.json()["id"]
        wait_until(lambda: len(refusals(client, subscription_id)) >= 2, what="refused, retried attempts")
        refused = refusals(client, subscription_id)
        assert all(entry["status_code"] is None and "loopback" in entry["error"] for entry in refused)
        assert refused[0]["next_attempt_at"] is not None
    finally:
        server.stop()
    assert receiver.connections == 0 and receiver.requests == []


def test_a_redirect_to_an_internal_address_is_not_followed(database_url, client_for):
    # 127.0.0.1 alone is allowed; the redirect points at 127.0.0.2, which is not.
    with Receiver("127.0.0.2") as internal, Receiver("127.0.0.1") as redirecting:
        redirecting.reply = lambda request: Reply(302, {"Location": internal.url})
        server = start(database_url, TIMELINE_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32")
        try:
            client = client_for(server.url)
            created = client.post("/v1/subscriptions", json={"url": redirecting.url})
            assert created.status_code == 201, created.text
            refused = client.post("/v1/subscriptions", json={"url": internal.url})
            assert refused.status_code == 422 and refused.json()["refusal"] == "loopback"
            assert client.post("/v1/incidents", json={"id": "probe", "title": "Probe"}).status_code == 201
            redirecting.wait_for(lambda r: len(r.requests) >= 3, what="retried attempts at the redirecting receiver")
            subscription_id = created.json()["id"]

            def logged() -> list[dict]:
                return client.get(f"/v1/subscriptions/{subscription_id}/deliveries").json()["deliveries"]

            wait_until(lambda: len(logged()) >= 3, what="the attempts logged")
            for entry in logged():
                assert entry["status_code"] == 302
                assert "redirects are not followed" in entry["error"] and internal.url in entry["error"]
                assert entry["next_attempt_at"] is not None  # a failure, retried: never followed
        finally:
            server.stop()
        assert internal.connections == 0 and internal.requests == []
