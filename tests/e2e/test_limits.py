"""Limits that hold, against the real `timeline serve`: oversized chunked bodies, slow clients, 405s.

Slow clients are raw sockets. Every wait is for something the server does (a socket becoming
readable, a response arriving) with a deadline that only bounds a failure; the configured timeouts
are set to 1 s through the environment.
"""

from __future__ import annotations

import json
import selectors
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.live import ServerProcess

pytestmark = pytest.mark.e2e

TIMEOUT = 1.0
DEADLINE = 30.0  # how long a connection may stay open past TIMEOUT before the test fails
CLIENTS = 50
MB = 1024 * 1024


@pytest.fixture
def backend() -> str:
    return "sqlite"  # these limits are the HTTP layer's: the database behind it does not change them


@pytest.fixture
def serve(database_url) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        started.append(
            ServerProcess({"TIMELINE_DATABASE_URL": database_url, "TIMELINE_WEBHOOK_DISPATCHER": "false", **env})
        )
        return started[-1].start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def token(keys) -> str:
    return keys.create("limits", frozenset({"read", "write"}))[1]


@pytest.fixture
def api(token) -> Iterator[Callable[[ServerProcess], httpx.Client]]:
    clients: list[httpx.Client] = []

    def client(server: ServerProcess) -> httpx.Client:
        clients.append(httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60))
        return clients[-1]

    yield client
    for made in clients:
        made.close()


def open_incident(client: httpx.Client, incident: str) -> None:
    response = client.post("/v1/incidents", json={"id": incident, "title": incident})
    assert response.status_code == 201, response.text


def revision(summary: str) -> bytes:
    return json.dumps({"events": [{"type": "IncidentRevised", "data": {"summary": summary}}]}).encode()


# -- bodies over the limit ----------------------------------------------------------------------


def test_an_oversized_chunked_body_gets_the_same_413_as_a_declared_one_and_nothing_is_written(serve, api, store):
    client = api(serve())
    open_incident(client, "limits")
    head = store.head_position()
    events = "/v1/incidents/limits/events"
    json_type = {"Content-Type": "application/json"}
    body = revision("x" * (10 * MB))

    declared = client.post(events, content=body, headers=json_type)
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    chunked = client.post(events, content=chunks(), headers=json_type)
    assert chunked.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413, chunked.text
    assert chunked.headers["content-type"] == "application/problem+json"
    assert chunked.json() == declared.json()
    assert chunked.json()["type"].endswith("/body-too-large")
    assert store.head_position() == head

    # The same connection carries on (the rest of the refused body was read and discarded), and a
    # chunked body within the limit reaches the route whole.
    small_body = revision("within the limit")
    small = client.post(events, content=iter([small_body[:20], small_body[20:]]), headers=json_type)
    assert small.request.headers.get("transfer-encoding") == "chunked"
    assert small.status_code == 201, small.text
    assert store.head_position() == head + 1
    assert client.get("/v1/incidents/limits").json()["summary"] == "within the limit"


# -- slow clients -------------------------------------------------------------------------------


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_response(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def wait_until_closed(sockets: list[socket.socket], trickle: bytes = b"") -> tuple[dict, dict]:
    """Wait for the server to close every socket, sending each one byte of `trickle` per round.

    Returns, per socket, what the server sent and when (time.monotonic()) it closed it.
    """
    received = {sock: b"" for sock in sockets}
    closed_at: dict[socket.socket, float] = {}
    sent = 0
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + TIMEOUT + DEADLINE
        while len(closed_at) < len(sockets):
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(sockets) - len(closed_at)} of {len(sockets)} connections still open")
            if sent < len(trickle):
                for sock in sockets:
                    if sock not in closed_at:
                        try:
                            sock.send(trickle[sent : sent + 1])
                        except OSError:
                            pass  # closed by the server: the read below sees it
                sent += 1
            # The pace of the trickle, and otherwise just a wait for the server to do something.
            for key, _ in selector.select(timeout=0.2 if sent < len(trickle) else 1.0):
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if data:
                    received[sock] += data
                else:
                    closed_at[sock] = time.monotonic()
                    selector.unregister(sock)
    for sock in sockets:
        sock.close()
    return received, closed_at


@pytest.mark.parametrize("after_a_response", [False, True], ids=["new-connection", "kept-alive"])
def test_a_client_sending_its_headers_slowly_is_cut_off_after_the_header_timeout(serve, after_a_response):
    server = serve(TIMELINE_HEADER_TIMEOUT=str(TIMEOUT), TIMELINE_KEEP_ALIVE="60")
    # The server's timer starts when a connection is made, or when a response completes: after this.
    started = time.monotonic()
    slow = [connect(server) for _ in range(CLIENTS)]
    if after_a_response:
        # On a kept-alive connection uvicorn's own (here 60 s) timer stops at the first byte.
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        for sock in slow:
            assert read_response(sock).startswith(b"HTTP/1.1 200")
    for sock in slow:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200  # others are served meanwhile

    received, closed_at = wait_until_closed(slow, trickle=b"X-Trickle: " + b"y" * 100)

    assert set(received.values()) == {b""}, "there was no complete request to answer"
    assert min(closed_at.values()) - started >= TIMEOUT, "not before the configured timeout"
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_client_sending_its_body_slowly_gets_a_408_after_the_body_timeout(serve, api, token, store, framing):
    server = serve(TIMELINE_BODY_TIMEOUT=str(TIMEOUT))
    open_incident(api(server), "limits")
    head = store.head_position()
    body = revision("never finished")
    length = f"Content-Length: {len(body)}" if framing == "content-length" else "Transfer-Encoding: chunked"
    partial = body[:10] if framing == "content-length" else b"a\r\n" + body[:10] + b"\r\n"
    request = (
        "POST /v1/incidents/limits/events HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\n{length}\r\n\r\n"
    ).encode() + partial

    started = time.monotonic()  # the server's timer starts with each request's headers: after this
    slow = [connect(server) for _ in range(CLIENTS)]
    for sock in slow:
        sock.sendall(request)
    received, closed_at = wait_until_closed(slow)

    for answer in received.values():
        head_part, _, problem = answer.partition(b"\r\n\r\n")
        assert head_part.startswith(b"HTTP/1.1 408"), answer
        assert b"content-type: application/problem+json" in head_part.lower()
        assert json.loads(problem)["type"].endswith("/body-timeout")
    assert min(closed_at.values()) - started >= TIMEOUT, "not before the configured timeout"
    assert store.head_position() == head
    assert api(server).get("/healthz").status_code == 200


# -- 405 ----------------------------------------------------------------------------------------

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PATHS = (
    "/v1/incidents",
    "/v1/incidents/limits",
    "/v1/incidents/limits/events",
    "/v1/incidents/limits/timeline",
    "/v1/events",
    "/v1/subscriptions",
    "/v1/subscriptions/some-id",
    "/healthz",
    "/openapi.json",
    "/static/timeline-widget.js",
)


def test_a_405_lists_exactly_the_methods_the_path_answers(serve):
    server = serve()
    allow: dict[str, set[str]] = {}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for path in PATHS:
            answers = {method: client.request(method, path) for method in METHODS}
            refused = {method: response for method, response in answers.items() if response.status_code == 405}
            assert refused, f"{path} answers every method"
            headers = {response.headers.get("allow") for response in refused.values()}
            assert len(headers) == 1, f"{path}: different Allow headers {headers}"
            allow[path] = set(headers.pop().split(", "))
            assert allow[path] == set(METHODS) - set(refused), f"{path}: Allow {allow[path]}, answered {answers}"
            for method, response in refused.items():
                assert response.headers["content-type"] == "application/problem+json"
                if method != "HEAD":
                    assert response.json()["status"] == 405

    assert allow["/v1/incidents"] == allow["/v1/incidents/limits/events"] == {"GET", "POST"}
    assert allow["/v1/events"] == allow["/v1/incidents/limits"] == {"GET"}
    assert allow["/v1/subscriptions/some-id"] == {"GET", "PATCH", "DELETE"}
    assert allow["/openapi.json"] == allow["/static/timeline-widget.js"] == {"GET", "HEAD"}
