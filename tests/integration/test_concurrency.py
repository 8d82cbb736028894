"""Racing writers and a following reader, on both backends."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.api.main import create_app
from app.store import NewEvent, VersionConflict
from tests.support.live import ThreadedServer

WRITERS = 8


def test_writers_racing_on_one_incident_get_one_winner_per_version(store):
    store.append("contested", [NewEvent("Opened", {})])
    target = 41
    wins: list[tuple[int, int]] = []
    conflicts = Counter()
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        start.wait()
        while True:
            version = store.stream_version("contested")
            if version >= target:
                return
            try:
                result = store.append(
                    "contested", [NewEvent("Claimed", {"writer": writer, "over": version})], expected_version=version
                )
            except VersionConflict:
                conflicts[writer] += 1
                continue
            wins.append((result.version, writer))

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    stream = store.read_stream("contested")
    assert [event.version for event in stream] == list(range(1, target + 1))
    assert sorted(version for version, _ in wins) == list(range(2, target + 1))
    # each winner wrote over exactly the version it expected: nobody's update was lost
    assert all(event.data["over"] == event.version - 1 for event in stream[1:])
    assert sum(conflicts.values()) > 0
    assert [event.position for event in store.read_all(limit=1000)] == list(range(1, target + 1))


def test_writers_on_different_incidents_leave_no_gap_in_positions(store):
    per_writer = 30
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        start.wait()
        for n in range(per_writer):
            store.append(f"incident-{writer}", [NewEvent("Noted", {"n": n})] * (1 + n % 3))

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    log = store.read_all(limit=10_000)
    total = WRITERS * sum(1 + n % 3 for n in range(per_writer))
    assert [event.position for event in log] == list(range(1, total + 1))
    for writer in range(WRITERS):
        versions = [event.version for event in log if event.incident_id == f"incident-{writer}"]
        assert versions == list(range(1, len(versions) + 1))
    times = [event.recorded_at for event in log]
    assert times == sorted(times)


def test_a_follower_reading_by_position_sees_every_event_exactly_once(settings, engine, keys):
    _, secret = keys.create("desk", frozenset({"write"}))
    headers = {"Authorization": f"Bearer {secret}"}
    batches_per_writer = 15
    done = threading.Event()
    seen: list[int] = []

    with ThreadedServer(create_app(settings, engine=engine)) as server:
        for writer in range(WRITERS):
            response = httpx.post(
                f"{server.url}/v1/incidents",
                json={"id": f"incident-{writer}", "title": f"Incident {writer}"},
                headers=headers,
            )
            assert response.status_code == 201

        def follow() -> None:
            with httpx.Client(base_url=server.url) as client:
                after = 0
                while True:
                    finished = done.is_set()
                    page = client.get("/v1/events", params={"after_position": after, "limit": 7}).json()
                    seen.extend(event["position"] for event in page["events"])
                    after = page["next_after_position"]
                    if finished and not page["events"]:
                        return

        def write(writer: int) -> None:
            with httpx.Client(base_url=server.url, headers=headers) as client:
                for n in range(batches_per_writer):
                    events = [
                        {"type": "IncidentRevised", "data": {"summary": f"writer {writer} batch {n} item {i}"}}
                        for i in range(1 + n % 3)
                    ]
                    response = client.post(f"/v1/incidents/incident-{writer}/events", json={"events": events})
                    assert response.status_code == 201, response.text

        follower = threading.Thread(target=follow)
        follower.start()
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(write, range(WRITERS)))
        done.set()
        follower.join(timeout=60)
        final = httpx.get(f"{server.url}/v1/events", params={"limit": 1000}).json()["events"]

    final_positions = [event["position"] for event in final]
    assert final_positions == list(range(1, len(final_positions) + 1))
    assert seen == final_positions
