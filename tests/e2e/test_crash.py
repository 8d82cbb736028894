"""kill -9 the server in the middle of an append burst: nothing acknowledged is lost, nothing is partial."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import httpx
import pytest

from tests.support.live import ServerProcess

pytestmark = pytest.mark.e2e
WRITERS = 4
BATCH = 5


def read_log(url: str) -> list[dict]:
    events, after = [], 0
    while page := httpx.get(f"{url}/v1/events", params={"after_position": after, "limit": 1000}).json()["events"]:
        events.extend(page)
        after = page[-1]["position"]
    return events


def test_killing_the_server_mid_burst_loses_no_acknowledged_event(database_url, keys):
    _, secret = keys.create("desk", frozenset({"write"}))
    headers = {"Authorization": f"Bearer {secret}"}
    env = {"TIMELINE_DATABASE_URL": database_url, "TIMELINE_WEBHOOK_DISPATCHER": "false"}
    server = ServerProcess(env).start()
    acknowledged: dict[str, list[int]] = {}
    enough = threading.Event()
    try:
        for writer in range(WRITERS):
            opened = httpx.post(
                f"{server.url}/v1/incidents", json={"id": f"burst-{writer}", "title": "Burst"}, headers=headers
            )
            assert opened.status_code == 201

        def write(writer: int) -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
                for n in range(10_000):
                    batch_id = f"w{writer}-b{n}"
                    events = [
                        {
                            "type": "IncidentRevised",
                            "data": {"summary": f"{batch_id} #{i}"},
                            "metadata": {"correlation_id": batch_id},
                        }
                        for i in range(BATCH)
                    ]
                    try:
                        response = client.post(f"/v1/incidents/burst-{writer}/events", json={"events": events})
                    except httpx.TransportError:
                        return  # the server is gone: this batch was never acknowledged
                    assert response.status_code == 201, response.text
                    acknowledged[batch_id] = response.json()["positions"]
                    if len(acknowledged) >= 60:
                        enough.set()

        threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=120), "the burst never got going"
        server.kill()  # SIGKILL: no shutdown hooks, no flush
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.stop()

    restarted = ServerProcess(env).start()
    try:
        log = read_log(restarted.url)
    finally:
        restarted.stop()

    positions = [event["position"] for event in log]
    assert positions == list(range(1, len(log) + 1))
    by_batch: dict[str, list[int]] = defaultdict(list)
    for event in log:
        if "correlation_id" in event["metadata"]:
            by_batch[event["metadata"]["correlation_id"]].append(event["position"])
    for batch_id, batch_positions in acknowledged.items():
        assert by_batch[batch_id] == batch_positions, batch_id
    assert set(Counter(len(p) for p in by_batch.values())) == {BATCH}
    for writer in range(WRITERS):
        versions = [e["version"] for e in log if e["incident_id"] == f"burst-{writer}"]
        assert versions == list(range(1, len(versions) + 1))
