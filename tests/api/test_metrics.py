"""GET /metrics: what operators watch, in the Prometheus text format, read back with prometheus-client's
own parser. A real server (uvicorn on a loopback port), a real webhook receiver and a real live
stream move each figure, and each is checked against what the service itself reports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.api.main import create_app
from app.config import Settings
from tests.api.conftest import assertion
from tests.support.live import ThreadedServer
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e  # a real uvicorn server and receiver: in `make test`, not in the edit-test loop

TIMELINE = "/v1/incidents/{incident_id}/timeline"


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        webhook_allow_http=True,
        webhook_allow_networks=("127.0.0.0/8",),
        webhook_poll_seconds=0.1,
    )


@pytest.fixture
def http(settings, engine) -> Iterator[httpx.Client]:
    with ThreadedServer(create_app(settings, engine=engine)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client


@pytest.fixture
def webhooks(keys) -> dict[str, str]:
    _, secret = keys.create("alerts", frozenset({"webhooks"}))
    return {"Authorization": f"Bearer {secret}"}


def scrape(http: httpx.Client | TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scraped_until(http: httpx.Client, condition: Callable[[dict], bool], what: str, timeout: float = 30.0) -> dict:
    """Scrape until `condition` holds of the samples (a deadline, not a timing threshold)."""
    deadline = time.monotonic() + timeout
    while not condition(samples := scrape(http)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {samples}")
        threading.Event().wait(0.05)
    return samples


def open_incident(http: httpx.Client | TestClient, writer) -> str:
    response = http.post("/v1/incidents", json={"id": "alex-pretti-shooting", "title": "Pretti"}, headers=writer)
    assert response.status_code == 201, response.text
    return "alex-pretti-shooting"


def test_appends_are_counted_with_their_batch_sizes_and_the_head_is_the_log_head(http, writer):
    before = scrape(http)
    incident = open_incident(http, writer)
    events = {"events": [assertion("pretti-shot"), assertion("noem-claim"), assertion("videos")]}
    appended = http.post(f"/v1/incidents/{incident}/events", json=events, headers=writer)
    assert appended.status_code == 201, appended.text

    after = scrape(http)
    assert value(after, "timeline_append_batch_events_count") - value(before, "timeline_append_batch_events_count") == 2
    assert value(after, "timeline_append_batch_events_sum") - value(before, "timeline_append_batch_events_sum") == 4
    assert value(after, "timeline_append_duration_seconds_count") == value(after, "timeline_append_batch_events_count")
    assert value(after, "timeline_append_duration_seconds_sum") > 0
    assert value(after, "timeline_head_position") == appended.json()["positions"][-1] == 4


def test_requests_are_timed_by_route_template_not_by_path(http, writer):
    incident = open_incident(http, writer)
    assert http.get(f"/v1/incidents/{incident}/timeline").status_code == 200
    assert http.get("/v1/incidents/no-such-incident/timeline").status_code == 404
    samples = scrape(http)
    assert (
        value(samples, "timeline_http_request_duration_seconds_count", route=TIMELINE, method="GET", status="200") == 1
    )
    assert (
        value(samples, "timeline_http_request_duration_seconds_count", route=TIMELINE, method="GET", status="404") == 1
    )
    assert not any("alex-pretti-shooting" in json.dumps(labels) for _, labels in samples)


def test_the_rendered_cache_reports_its_hits_and_misses(http, writer):
    incident = open_incident(http, writer)
    first = http.get(f"/v1/incidents/{incident}/timeline")
    again = http.get(f"/v1/incidents/{incident}/timeline")
    assert first.content == again.content
    samples = scrape(http)
    assert value(samples, "timeline_rendered_cache_lookups_total", result="miss") == 1
    assert value(samples, "timeline_rendered_cache_lookups_total", result="hit") == 1


def test_the_projector_lag_is_what_healthz_says(settings, engine, writer):
    # Without its lifespan the app runs no follower in the background: the index moves only when
    # a read brings it up to date, so the lag stands still between the two looks.
    client = TestClient(create_app(settings, engine=engine))
    open_incident(client, writer)
    samples = scrape(client)
    assert value(samples, "timeline_projector_lag") == client.get("/healthz").json()["assertion_index"]["lag"] == 1
    assert client.get("/v1/assertions").status_code == 200
    samples = scrape(client)
    assert value(samples, "timeline_projector_lag") == client.get("/healthz").json()["assertion_index"]["lag"] == 0
    assert value(samples, "timeline_head_position") == 1


def test_live_streams_are_counted_while_open(http, writer):
    incident = open_incident(http, writer)
    assert value(scrape(http), "timeline_sse_clients") == 0
    with http.stream("GET", f"/v1/incidents/{incident}/stream") as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: ready"
        assert value(scrape(http), "timeline_sse_clients") == 1
    # The server notices the client went away at its next disconnect check.
    scraped_until(http, lambda samples: value(samples, "timeline_sse_clients") == 0, "the stream to be counted out")


def test_webhook_deliveries_are_counted_by_outcome_and_the_queue_drains(http, writer, webhooks):
    with Receiver() as receiver:
        created = http.post("/v1/subscriptions", json={"url": receiver.url}, headers=webhooks)
        assert created.status_code == 201, created.text
        receiver.secrets.append(created.json()["secret"])
        incident = open_incident(http, writer)
        receiver.wait_for(lambda r: len(r.delivered()) == 1, what="the IncidentOpened delivery")
        assert receiver.delivered()[0].incident == incident

    # The receiver answered before the dispatcher recorded the answer: wait for the record.
    samples = scraped_until(
        http,
        lambda samples: (
            value(samples, "timeline_webhook_queue_depth") == 0
            and value(samples, "timeline_webhook_deliveries_total", outcome="delivered") == 1
        ),
        "the delivery to be recorded",
    )
    assert value(samples, "timeline_webhook_deliveries_total", outcome="delivered") == 1
    assert value(samples, "timeline_webhook_delivery_duration_seconds_count") == 1
    assert value(samples, "timeline_webhook_queue_depth") == 0


def test_metrics_are_in_the_api_document(http):
    document = http.get("/openapi.json").json()
    assert "text/plain" in document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]


def test_the_log_trees_lag_is_what_healthz_says_and_a_proof_clears_it(settings, engine, writer):
    # Without its lifespan the app runs no checkpoint loop: the tree integrates only when asked.
    client = TestClient(create_app(settings, engine=engine))
    incident = open_incident(client, writer)
    appended = client.post(
        f"/v1/incidents/{incident}/events", json={"events": [assertion("pretti-shot")]}, headers=writer
    )
    assert appended.status_code == 201, appended.text
    health = client.get("/healthz").json()
    assert value(scrape(client), "timeline_log_tree_lag") == health["log_tree"]["lag"] == 2
    assert health["log_tree"]["size"] == 0
    proof = client.get("/v1/events/2/proof", params={"size": 2}, headers=writer)
    assert proof.status_code == 200 and proof.json()["tree_size"] == 2, proof.text
    health = client.get("/healthz").json()
    assert value(scrape(client), "timeline_log_tree_lag") == health["log_tree"]["lag"] == 0
    assert health["log_tree"]["size"] == health["head_position"] == 2
