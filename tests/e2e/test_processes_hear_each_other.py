"""Several server processes on one PostgreSQL: each hears the others' appends as they commit (NOTIFY /
LISTEN), and exactly one of them dispatches webhooks and one keeps the assertion index.

Every poll in the servers is set to ten minutes here, so whatever arrives within the tests' deadlines
(seconds) arrived because it was told, not because someone looked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.leadership import DISPATCHER, PROJECTOR, role_key
from tests.api.test_stream import Messages
from tests.conftest import fresh_database_url
from tests.support.live import ServerProcess
from tests.support.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

NEVER = "600"  # seconds: no poll fires within a test
INCIDENT = "alex-pretti-shooting"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(0.05)


@pytest.fixture
def database(request, tmp_path) -> str:
    return fresh_database_url("postgres", request, tmp_path)


@pytest.fixture
def env(database, keys_for) -> dict[str, str]:
    return {
        "TIMELINE_DATABASE_URL": database,
        "TIMELINE_WEBHOOK_ALLOW_HTTP": "true",
        "TIMELINE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "TIMELINE_WEBHOOK_POLL": NEVER,
        "TIMELINE_STREAM_POLL": NEVER,
        "TIMELINE_INDEX_POLL": NEVER,
        "TIMELINE_HEAD_REFRESH": NEVER,
    }


@pytest.fixture
def keys_for(database) -> Callable[[str], str]:
    from app.db import create_engine
    from app.store.keys import KeyRing

    engine = create_engine(database)
    ring = KeyRing(engine)

    def make(scopes: str) -> str:
        return ring.create(f"test {scopes}", frozenset(scopes.split(",")))[1]

    yield make
    engine.dispose()


def holders(database: str, role) -> int:
    """Sessions holding the role's advisory lock (a bigint key: classid is its high half, objid its low)."""
    with psycopg.connect(database.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            (role_key(role),),
        ).fetchone()[0]


@pytest.fixture
def servers(env) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def test_an_append_to_one_process_reaches_the_others_streams_webhooks_and_etags(servers, env, database, keys_for):
    writer = {"Authorization": f"Bearer {keys_for('write,webhooks')}"}
    # B first, alone: it takes the dispatcher's and the projector's roles, so A has neither.
    b = ServerProcess(env).start()
    servers.append(b)
    wait_until(lambda: holders(database, DISPATCHER) == 1 and holders(database, PROJECTOR) == 1, "B's roles")
    a = ServerProcess(env).start()
    servers.append(a)

    with Receiver() as receiver, httpx.Client(timeout=10) as http:
        created = http.post(f"{a.url}/v1/subscriptions", json={"url": receiver.url}, headers=writer)
        assert created.status_code == 201, created.text
        receiver.secrets.append(created.json()["secret"])
        opened = http.post(f"{a.url}/v1/incidents", json={"id": INCIDENT, "title": "Pretti"}, headers=writer)
        assert opened.status_code == 201, opened.text
        receiver.wait_for(lambda r: len(r.delivered()) == 1, what="B to deliver A's IncidentOpened")

        before = http.get(f"{b.url}/v1/incidents/{INCIDENT}/timeline")
        assert before.status_code == 200
        with http.stream("GET", f"{b.url}/v1/incidents/{INCIDENT}/stream") as stream:
            messages = Messages(stream)
            assert messages.next()["event"] == "ready"
            appended = http.post(
                f"{a.url}/v1/incidents/{INCIDENT}/events",
                json={"events": [{"type": "IncidentRevised", "data": {"summary": "Shot by federal agents"}}]},
                headers=writer,
            )
            assert appended.status_code == 201, appended.text
            message = messages.next()
            assert message["event"] == "appended" and message["id"] == "2"
            assert json.loads(message["data"])["data"] == {"summary": "Shot by federal agents"}

        receiver.wait_for(lambda r: len(r.delivered()) == 2, what="B to deliver A's IncidentRevised")
        assert [(d.incident, d.version) for d in receiver.delivered()] == [(INCIDENT, 1), (INCIDENT, 2)]
        after = http.get(f"{b.url}/v1/incidents/{INCIDENT}/timeline")
        assert after.headers["etag"] != before.headers["etag"]
        assert after.json()["incident"]["summary"] == "Shot by federal agents"
        # B's assertion index followed A's appends too (told, not polled).
        wait_until(
            lambda: http.get(f"{b.url}/healthz").json()["assertion_index"] == {"position": 2, "lag": 0},
            "B's assertion index to reach A's append",
        )
    assert holders(database, DISPATCHER) == 1 and holders(database, PROJECTOR) == 1


def test_workers_start_serve_and_elect_one_dispatcher_and_one_projector(servers, env, database, keys_for):
    writer = {"Authorization": f"Bearer {keys_for('write')}"}
    server = ServerProcess(env, "--workers", "2").start()
    servers.append(server)
    wait_until(lambda: holders(database, DISPATCHER) == 1 and holders(database, PROJECTOR) == 1, "the roles")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        opened = http.post("/v1/incidents", json={"id": INCIDENT, "title": "Pretti"}, headers=writer)
        assert opened.status_code == 201, opened.text
        answers = [http.get("/healthz") for _ in range(40)]
        assert all(answer.status_code == 200 for answer in answers)
        # The two workers count their own requests; a scrape of either adds both up.
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(http.get("/metrics").text)
            for sample in family.samples
        }
        healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
        assert samples[("timeline_http_request_duration_seconds_count", healthz)] >= 40
        assert samples[("timeline_append_batch_events_count", ())] == 1
        assert samples[("timeline_head_position", ())] == 1
    assert holders(database, DISPATCHER) == 1 and holders(database, PROJECTOR) == 1
