"""Limits that hold: request bodies over the configured size, slow bodies and slow headers are refused."""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.api.problems import problem_response


class BodySizeLimit:
    """Pure ASGI middleware: a body over `max_bytes` is answered 413 before the app sees any of it."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                return await self._refuse(scope, receive, send)
            # The server frames the body by its declared length (h11 refuses a longer one), so it
            # cannot outgrow what was checked here.
            return await self.app(scope, receive, send)

        # No declared length (chunked): the body is read here, before the app runs, so one that
        # turns out too large is refused while nothing has been written and no response has begun.
        # Counting inside the app's own reading instead would surface as whatever the app makes of
        # the error (FastAPI: a 400), possibly after its response has started. At most max_bytes
        # plus one chunk is held.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left mid-body: there is no one to answer
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                return await self._refuse(scope, receive, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        whole: dict | None = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay():
            nonlocal whole
            if whole is not None:
                message, whole = whole, None
                return message
            return await receive()  # after the body: http.disconnect, when it comes

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send):
        # No `Connection: close`: the server reads and discards the rest of the body (bounded by
        # HeaderTimeoutProtocol's timer), so a client that sends its whole body before reading
        # the answer gets this 413 rather than a reset connection.
        response = problem_response(
            413,
            "body-too-large",
            f"request bodies are limited to {self.max_bytes} bytes",
            instance=scope.get("path", ""),
        )
        await response(scope, receive, send)


class BodyTimeout:
    """Pure ASGI middleware: a request's whole body must arrive within `seconds` of its headers (408 if not).

    The deadline is for the whole body, not each read: a per-read limit lets a client trickle a byte
    just inside it for ever. Once the body is complete, reads (the app waiting for the client to
    disconnect, as a stream does) are not timed.
    """

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        deadline = asyncio.get_running_loop().time() + self.seconds
        body_done = timed_out = started = False

        async def timed_receive():
            nonlocal body_done, timed_out
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                raise BodyTimedOut(self.seconds) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message):
            nonlocal started
            # Whatever the app makes of BodyTimedOut (FastAPI: a 400) is replaced by the 408 below;
            # an app that had already started its response finishes it as it can.
            if timed_out and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            # After a timeout, whatever the app raised (BodyTimedOut itself, or what it made of it)
            # is answered by the 408 below, unless a response is under way and cannot be replaced:
            # then the server drops the connection.
            if not timed_out or started:
                raise
        if timed_out and not started:
            # `Connection: close`: the client is too slow to keep waiting on, so the server closes
            # the connection once this is sent instead of reading the rest of the body.
            response = problem_response(
                408,
                "body-timeout",
                f"the request body did not arrive within {self.seconds:g} s",
                instance=scope.get("path", ""),
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)


class BodyTimedOut(Exception):
    def __init__(self, seconds: float):
        super().__init__(f"the request body did not arrive within {seconds:g} s")


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose next request line and headers take too long.

    Written here because uvicorn has no header-read timeout: its keep-alive timer runs only between
    requests and any byte received cancels it, so a client that sends a request's first bytes and
    then trickles the rest holds the connection for ever. This timer starts when the connection is
    made and again when a response completes, and stops only when uvicorn has parsed the next
    request's headers; bytes arriving meanwhile (a trickle, or the rest of a body refused early and
    being discarded) do not extend it. `ConfiguredHeaderTimeout` below is the class given to uvicorn.
    """

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._wait_for_headers()

    def data_received(self, data: bytes) -> None:
        waiting_after = self.scope
        super().data_received(data)
        # uvicorn makes a new scope for each request whose headers h11 has parsed (a WebSocket
        # upgrade included), so a new scope means the headers we were waiting for have arrived.
        if self.scope is not waiting_after:
            self._stop_waiting()

    def on_response_complete(self) -> None:
        finished = self.scope
        super().on_response_complete()
        # Unless uvicorn closed the connection, or already parsed a pipelined request's headers.
        if not self.transport.is_closing() and self.scope is finished:
            self._wait_for_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _wait_for_headers(self) -> None:
        self._stop_waiting()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        # There is no parsed request to answer (h11 sends responses only to those), so the
        # connection is just closed, as nginx does on client_header_timeout.
        if not self.transport.is_closing():
            self.transport.close()


class ConfiguredHeaderTimeout(HeaderTimeoutProtocol):
    """The protocol class `timeline serve` gives uvicorn (`http=`). uvicorn constructs protocols
    itself, and with `--workers N` in processes of its own, which import the class by name: so the
    class is a module's, and takes the setting from its process's environment (TIMELINE_HEADER_TIMEOUT)."""

    @property
    def header_timeout(self) -> float:  # type: ignore[override]
        return _configured_header_timeout()


@functools.cache
def _configured_header_timeout() -> float:
    from app.config import Settings

    return Settings.from_env().header_timeout_seconds
