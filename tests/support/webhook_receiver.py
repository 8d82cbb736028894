"""A real webhook receiver for tests: an HTTP server on a loopback port that verifies every request
with `standardwebhooks.Webhook.verify` and parses it with the `cloudevents` package.

Tests wait for outcomes with `wait_for(condition)` (a condition variable notified on every
request, with a deadline), never with sleeps. What the receiver answers is decided per request by
`reply`, a function of the request, so a test can make it fail, hang, redirect or answer 410.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hang: bool = False  # hold the request until release() or stop()


@dataclass
class Received:
    number: int  # 1-based, in arrival order
    path: str
    headers: dict[str, str]
    body: str
    raw: dict[str, Any] | None  # the JSON body as sent
    event: Any  # the cloudevents.core event, or None if it did not parse
    parse_error: str | None
    verified_with: tuple[int, ...]  # indexes into Receiver.secrets that verify this request
    complete: bool = True  # False: the connection closed before the whole body arrived
    status: int = 0  # what the receiver answered (0 while hanging, -1 if the answer never got out)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def incident(self) -> str | None:
        return self.raw.get("subject") if self.raw else None

    @property
    def version(self) -> int | None:
        return self.raw.get("incidentversion") if self.raw else None


class Receiver:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, secrets: list[str] | None = None):
        self.host = host
        self.port = port or _free_port(host)
        self.secrets: list[str] = list(secrets or [])
        self.reply: Callable[[Received], Reply] = lambda received: Reply()
        self.requests: list[Received] = []
        self.connections = 0
        self._condition = threading.Condition()
        self._release = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._sockets: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/hook"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> "Receiver":
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                receiver._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                receiver._handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

            def process_request(self, request, client_address):
                with receiver._condition:
                    receiver.connections += 1
                    receiver._sockets.add(request)
                super().process_request(request, client_address)

            def shutdown_request(self, request):
                with receiver._condition:
                    receiver._sockets.discard(request)
                super().shutdown_request(request)

            def handle_error(self, request, client_address):
                pass  # a sender that gave up on a hanging request: expected here

        self._release.clear()
        self._server = Server((self.host, self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket (the receiver is down until start() again) and free hung requests."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None
        # Kept-alive connections would otherwise go on being served: down means down.
        with self._condition:
            open_sockets, self._sockets = list(self._sockets), set()
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def release(self) -> None:
        """Let every hanging request (and later ones told to hang) answer."""
        self._release.set()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- waiting --------------------------------------------------------------------------

    def wait_for(self, condition: Callable[["Receiver"], bool], timeout: float = 30.0, what: str = "") -> None:
        """Block until `condition(self)` holds (checked on every request), or fail after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout:g} s waiting for {what or 'a condition'}; "
                        f"{len(self.requests)} requests received"
                    )
                self._condition.wait(min(left, 0.1))

    # -- views ----------------------------------------------------------------------------

    def delivered(self) -> list[Received]:
        """Requests answered 2xx, in arrival order."""
        with self._condition:
            return [r for r in self.requests if 200 <= r.status < 300]

    def delivered_ids(self) -> set[str]:
        return {r.webhook_id for r in self.delivered()}

    def count_delivered(self, event_ids) -> int:
        ids = self.delivered_ids()
        return sum(1 for event_id in event_ids if event_id in ids)

    # -- handling -------------------------------------------------------------------------

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        data = handler.rfile.read(length) if length else b""
        complete = len(data) == length
        body = data.decode("utf-8", errors="replace")
        headers = {key.lower(): value for key, value in handler.headers.items()}
        verified = []
        for index, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.append(index)
        raw = event = parse_error = None
        try:
            raw = json.loads(body)
            event = from_http_event(HTTPMessage(headers=headers, body=body.encode("utf-8")))
        except Exception as error:  # recorded for the test to assert on
            parse_error = f"{type(error).__name__}: {error}"
        with self._condition:
            received = Received(
                len(self.requests) + 1, handler.path, headers, body, raw, event, parse_error, tuple(verified), complete
            )
            self.requests.append(received)
            self._condition.notify_all()
        if not complete:  # the sender (or our stop()) cut the request short: nothing to answer
            handler.close_connection = True
            with self._condition:
                received.status = -1
                self._condition.notify_all()
            return
        reply = self.reply(received)
        answered = reply.status
        if reply.hang:
            self._release.wait(timeout=60)
            if not _connected(handler):
                answered = -1  # the sender gave up (timed out): no answer will arrive
        if answered != -1:
            try:
                handler.send_response(reply.status)
                for name, value in reply.headers.items():
                    handler.send_header(name, value)
                handler.send_header("Content-Length", str(len(reply.body)))
                handler.end_headers()
            except OSError:
                answered = -1
            else:
                try:
                    handler.wfile.write(reply.body)
                    handler.wfile.flush()
                except OSError:
                    pass  # the status line is out: the sender has its answer (as the dispatcher reads it)
        else:
            handler.close_connection = True
        with self._condition:
            received.status = answered
            self._condition.notify_all()


def _connected(handler: http.server.BaseHTTPRequestHandler) -> bool:
    """Whether the sender still waits for the answer (it has not closed its end)."""
    sock = handler.connection
    try:
        sock.setblocking(False)
        try:
            data = sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return True
        finally:
            sock.setblocking(True)
        return bool(data)
    except OSError:
        return False


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
