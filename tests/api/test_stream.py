"""Live updates over server-sent events, against a real uvicorn server: where a stream starts, how it
resumes after a drop, that appends by other processes arrive too, keep-alives, shutdown and CORS."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.api.routes import stream as stream_route
from app.config import Settings
from app.store import EventStore, NewEvent
from tests.api.conftest import assertion
from tests.support.live import ServerProcess, ThreadedServer

pytestmark = pytest.mark.e2e  # real uvicorn servers: in `make test`, not in the edit-test loop

TIMEOUT = httpx.Timeout(10.0)  # a message that does not come fails the test instead of hanging it


class Messages:
    """Server-sent events read off a streaming response, one message at a time (the WHATWG rules)."""

    def __init__(self, response: httpx.Response):
        self.response = response
        self.lines: Iterator[str] = response.iter_lines()
        self.comments: list[str] = []

    def next(self) -> dict:
        message: dict = {}
        data: list[str] = []
        for line in self.lines:
            if line == "":
                if data or message:
                    message["data"] = "\n".join(data)
                    return message
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                message[name] = value
        raise EOFError("the stream ended")

    def next_comment(self) -> str:
        for line in self.lines:
            if line.startswith(":"):
                return line[1:].strip()
        raise EOFError("the stream ended")


def open_stream(client: httpx.Client, incident_id: str, **kwargs):
    return client.stream("GET", f"/v1/incidents/{incident_id}/stream", **kwargs)


@pytest.fixture
def server(app) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as server:
        yield server


@pytest.fixture
def http(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def opened(http, writer) -> str:
    """An incident at version 3: opened, then two assertions."""
    response = http.post(
        "/v1/incidents", json={"id": "alex-pretti-shooting", "title": "Shooting of Alex Pretti"}, headers=writer
    )
    assert response.status_code == 201, response.text
    appended = http.post(
        "/v1/incidents/alex-pretti-shooting/events",
        json={"events": [assertion("pretti-shot"), assertion("noem-weapon-claim", kind="official_statement")]},
        headers=writer,
    )
    assert appended.json()["version"] == 3
    return "alex-pretti-shooting"


def append(http: httpx.Client, writer, incident_id: str, *events) -> dict:
    response = http.post(f"/v1/incidents/{incident_id}/events", json={"events": list(events)}, headers=writer)
    assert response.status_code == 201, response.text
    return response.json()


def raw_events(http: httpx.Client, incident_id: str) -> dict[int, dict]:
    page = http.get(f"/v1/incidents/{incident_id}/events", params={"limit": 1000}).json()
    return {event["version"]: event for event in page["events"]}


def test_a_stream_starts_at_the_current_end_and_follows_appends(http, writer, opened):
    with open_stream(http, opened) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        messages = Messages(response)
        ready = messages.next()
        assert ready["event"] == "ready"
        assert ready["id"] == "3"  # a client that drops now resumes from here
        assert json.loads(ready["data"]) == {"incident_id": opened, "version": 3, "after_version": 3}
        assert int(ready["retry"]) > 0

        append(http, writer, opened, assertion("videos-show-phone", occurred="2026-01-24/2026-02-02"))
        appended = messages.next()
        assert appended["event"] == "appended"
        assert appended["id"] == "4"
        assert json.loads(appended["data"]) == raw_events(http, opened)[4]


def test_after_version_replays_what_was_missed_in_order_then_follows(http, writer, opened):
    with open_stream(http, opened, params={"after_version": 1}) as response:
        messages = Messages(response)
        assert messages.next()["id"] == "1"
        assert [messages.next()["id"], messages.next()["id"]] == ["2", "3"]
        append(http, writer, opened, assertion("late-claim"))
        message = messages.next()
        assert message["id"] == "4"
        assert json.loads(message["data"])["data"]["assertion_id"] == "late-claim"


def test_last_event_id_wins_over_after_version(http, opened):
    # A browser reconnects to the URL it first opened, after_version included, and adds the id it
    # last saw: resuming must follow the id, or every reconnect would replay from the start.
    with open_stream(http, opened, params={"after_version": 0}, headers={"Last-Event-ID": "2"}) as response:
        messages = Messages(response)
        assert messages.next()["id"] == "2"
        assert messages.next()["id"] == "3"


def test_a_dropped_client_resumes_with_last_event_id_and_misses_nothing(http, writer, opened):
    with open_stream(http, opened) as response:
        last_seen = Messages(response).next()["id"]
    # While the client is away, two batches land.
    append(http, writer, opened, assertion("while-away-1"))
    append(http, writer, opened, assertion("while-away-2"), assertion("while-away-3"))
    with open_stream(http, opened, headers={"Last-Event-ID": last_seen}) as response:
        messages = Messages(response)
        assert messages.next()["event"] == "ready"
        replayed = [messages.next() for _ in range(3)]
    assert [m["id"] for m in replayed] == ["4", "5", "6"]
    assert [json.loads(m["data"])["data"]["assertion_id"] for m in replayed] == [
        "while-away-1",
        "while-away-2",
        "while-away-3",
    ]
    assert all(m["event"] == "appended" for m in replayed)


def test_appends_by_another_process_arrive_through_the_poll(http, engine, opened):
    with open_stream(http, opened) as response:
        messages = Messages(response)
        messages.next()
        # Written straight to the database, as another API process would: this app's in-process
        # signal never fires, so only the poll can find it.
        EventStore(engine).append(opened, [NewEvent("AssertionRecorded", assertion("from-elsewhere")["data"])])
        message = messages.next()
        assert message["id"] == "4"
        assert json.loads(message["data"])["data"]["assertion_id"] == "from-elsewhere"


def test_a_long_backlog_arrives_complete_and_in_order(http, writer, opened, monkeypatch):
    monkeypatch.setattr(stream_route, "PAGE", 3)  # several catch-up pages
    append(http, writer, opened, *[assertion(f"a{i}") for i in range(10)])
    with open_stream(http, opened, params={"after_version": 0}) as response:
        messages = Messages(response)
        messages.next()
        ids = [int(messages.next()["id"]) for _ in range(13)]
    assert ids == list(range(1, 14))


def test_idle_streams_get_keep_alive_comments(http, opened, monkeypatch):
    monkeypatch.setattr(stream_route, "PING_SECONDS", 0.2)
    with open_stream(http, opened) as response:
        messages = Messages(response)
        messages.next()
        assert messages.next_comment().startswith("ping")


def test_unknown_incident_is_a_404_problem(http):
    response = http.get("/v1/incidents/no-such-incident/stream")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "no-such-incident" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["abc", "-1", "3.5"])
def test_a_last_event_id_that_is_not_a_version_is_a_422_problem(http, opened, bad):
    response = http.get(f"/v1/incidents/{opened}/stream", headers={"Last-Event-ID": bad})
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["detail"]


def test_a_resume_point_past_the_end_starts_at_the_end(http, writer, opened):
    with open_stream(http, opened, headers={"Last-Event-ID": "99"}) as response:
        messages = Messages(response)
        assert messages.next()["id"] == "3"
        append(http, writer, opened, assertion("after-reset"))
        assert messages.next()["id"] == "4"


def test_reads_need_a_key_when_public_read_is_off(engine, database_url, reader, opened):
    app = create_app(Settings(database_url=database_url, public_read=False, webhook_dispatcher=False), engine=engine)
    with ThreadedServer(app) as private, httpx.Client(base_url=private.url, timeout=TIMEOUT) as client:
        assert client.get(f"/v1/incidents/{opened}/stream").status_code == 401
        with open_stream(client, opened, headers=reader) as response:
            assert response.status_code == 200
            assert Messages(response).next()["event"] == "ready"


def test_a_closed_client_frees_the_server_to_shut_down(app, writer):
    server = ThreadedServer(app)
    with server:
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
            client.post("/v1/incidents", json={"id": "quiet", "title": "Quiet"}, headers=writer)
            with open_stream(client, "quiet") as response:
                Messages(response).next()
    # __exit__ asked uvicorn to stop; it waits for open responses, so a stream that outlived
    # its client would keep the server thread alive.
    assert not server.thread.is_alive()


@pytest.mark.e2e
def test_server_shutdown_is_not_held_up_by_an_open_stream(database_url, keys):
    """`timeline serve` gets SIGTERM while a browser still has a stream open: it ends the stream and exits."""
    _, secret = keys.create("desk", frozenset({"write"}))
    server = ServerProcess({"TIMELINE_DATABASE_URL": database_url, "TIMELINE_WEBHOOK_DISPATCHER": "false"}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
            opened = client.post(
                "/v1/incidents", json={"id": "quiet", "title": "Quiet"}, headers={"Authorization": f"Bearer {secret}"}
            )
            assert opened.status_code == 201
            with open_stream(client, "quiet") as response:
                messages = Messages(response)
                messages.next()
                server.process.terminate()
                with pytest.raises((EOFError, httpx.RemoteProtocolError)):
                    while True:
                        messages.next()
        # uvicorn re-raises the SIGTERM it caught once it has shut down, hence -15 rather than 0;
        # what matters is that it finished its shutdown (it would wait forever on a live stream).
        assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in server.process.stderr.read().decode()
    finally:
        server.stop()


# -- CORS: widgets on other sites call the API from the browser ---------------------------


def test_cors_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIMELINE_CORS_ORIGINS", "https://news.example, https://embed.example")
    assert Settings.from_env().cors_origins == ("https://news.example", "https://embed.example")
    monkeypatch.setenv("TIMELINE_CORS_ORIGINS", "")
    assert Settings.from_env().cors_origins == ()


@pytest.fixture
def cors_client(engine, database_url):
    settings = Settings(database_url=database_url, cors_origins=("https://news.example",), webhook_dispatcher=False)
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def test_cors_allows_the_configured_origin_only(cors_client, writer):
    cors_client.post("/v1/incidents", json={"id": "quiet", "title": "Quiet"}, headers=writer)
    allowed = cors_client.get("/v1/incidents/quiet/timeline", headers={"Origin": "https://news.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://news.example"
    assert "etag" in allowed.headers["access-control-expose-headers"].lower()  # widgets revalidate with it
    other = cors_client.get("/v1/incidents/quiet/timeline", headers={"Origin": "https://elsewhere.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


def test_cors_preflight_admits_the_headers_widgets_send(cors_client):
    preflight = cors_client.options(
        "/v1/incidents/quiet/stream",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id, if-none-match, authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://news.example"
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"last-event-id", "if-none-match", "authorization"} <= allowed
    refused = cors_client.options(
        "/v1/incidents/quiet/stream",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert refused.status_code == 400


def test_cors_is_off_without_configured_origins(client, writer):
    client.post("/v1/incidents", json={"id": "quiet", "title": "Quiet"}, headers=writer)
    response = client.get("/v1/incidents/quiet/timeline", headers={"Origin": "https://news.example"})
    assert "access-control-allow-origin" not in response.headers


def test_the_stream_carries_cors_headers_for_an_allowed_origin(engine, database_url, writer):
    settings = Settings(database_url=database_url, cors_origins=("https://news.example",), webhook_dispatcher=False)
    with (
        ThreadedServer(create_app(settings, engine=engine)) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as client,
    ):
        client.post("/v1/incidents", json={"id": "quiet", "title": "Quiet"}, headers=writer)
        with open_stream(client, "quiet", headers={"Origin": "https://news.example"}) as response:
            assert response.headers["access-control-allow-origin"] == "https://news.example"
            assert Messages(response).next()["event"] == "ready"
