"""The limit middlewares as plain ASGI, the 405 Allow computation, and their settings."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from app.api.limits import BodySizeLimit, BodyTimedOut, BodyTimeout
from app.api.problems import allowed_methods
from app.config import Settings

SCOPE = {"type": "http", "method": "POST", "path": "/v1/incidents/x/events", "headers": []}


def chunked(*chunks: bytes):
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages[-1]["more_body"] = False

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


def run(middleware, receive, scope=SCOPE) -> list[dict]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


def problem(sent: list[dict]) -> tuple[int, dict, dict]:
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return sent[0]["status"], dict(sent[0]["headers"]), json.loads(sent[1]["body"])


class App:
    """An ASGI app that reads its whole body, then answers 201 (or starts answering first)."""

    def __init__(self, start_first: bool = False):
        self.calls, self.bodies, self.start_first = 0, [], start_first

    async def __call__(self, scope, receive, send):
        self.calls += 1
        if self.start_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        body = b""
        try:
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
        except Exception:
            if self.start_first:
                raise
            # What FastAPI does with an error while reading a body.
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"bad request"})
            return
        self.bodies.append(body)
        self.after_body = await receive()
        if not self.start_first:
            await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def test_a_chunked_body_over_the_limit_gets_the_declared_length_refusal_and_the_app_never_runs():
    app = App()
    sent = run(BodySizeLimit(app, max_bytes=10), chunked(b"12345", b"67890", b"1", b"never read"))
    declared = run(BodySizeLimit(app, max_bytes=10), chunked(b""), {**SCOPE, "headers": [(b"content-length", b"11")]})
    assert app.calls == 0
    status, headers, body = problem(sent)
    assert status == 413 and headers[b"content-type"] == b"application/problem+json"
    assert body == problem(declared)[2]
    assert body["type"].endswith("/body-too-large") and body["instance"] == SCOPE["path"]


def test_a_chunked_body_within_the_limit_reaches_the_app_whole_then_the_real_receive():
    app = App()
    sent = run(BodySizeLimit(app, max_bytes=10), chunked(b"12345", b"", b"67890"))
    assert app.bodies == [b"1234567890"]
    assert app.after_body == {"type": "http.disconnect"}
    assert sent[0]["status"] == 201


def never_finishing_body(sent_chunks: list[bytes]):
    """A client sending a byte every 10 ms: each read is quick, the body lasts 5 s (for ever, here)."""

    async def receive():
        if sent_chunks:
            await asyncio.sleep(0.01)  # the client's pace, not a synchronisation
        sent_chunks.append(b"x")
        return {"type": "http.request", "body": b"x", "more_body": len(sent_chunks) < 500}

    return receive


def test_a_trickled_body_gets_a_408_at_the_whole_body_deadline_instead_of_the_apps_own_answer():
    app, chunks = App(), []
    sent = run(BodyTimeout(app, seconds=0.2), never_finishing_body(chunks))
    assert len(chunks) > 2, "several reads, each well within the deadline"
    status, headers, body = problem(sent)
    assert status == 408
    assert headers[b"content-type"] == b"application/problem+json" and headers[b"connection"] == b"close"
    assert body["type"].endswith("/body-timeout")


def test_a_timeout_after_the_response_started_sends_nothing_more_and_surfaces():
    app = App(start_first=True)
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    with pytest.raises(BodyTimedOut):
        asyncio.run(BodyTimeout(app, seconds=0.05)(SCOPE, never_finishing_body([]), send))
    assert [m["type"] for m in sent] == ["http.response.start"]


def test_body_timeout_covers_body_size_limits_reads_and_leaves_a_prompt_body_alone():
    app = App()
    sent = run(BodyTimeout(BodySizeLimit(app, max_bytes=1000), seconds=0.2), never_finishing_body([]))
    assert app.calls == 0 and problem(sent)[0] == 408
    sent = run(BodyTimeout(BodySizeLimit(app, max_bytes=1000), seconds=0.2), chunked(b"ab", b"c"))
    assert app.bodies == [b"abc"] and sent[0]["status"] == 201


def test_allow_lists_every_routes_methods_and_head_only_where_it_is_routed(tmp_path):
    app = FastAPI()
    router = APIRouter(prefix="/things")
    router.get("")(lambda: None)
    router.post("")(lambda: None)
    router.delete("/{thing}")(lambda: None)
    app.include_router(router)
    app.add_route("/page", lambda request: None, methods=["GET"])  # a plain Starlette route also takes HEAD
    app.mount("/files", StaticFiles(directory=tmp_path))

    def allowed(path: str) -> list[str]:
        return allowed_methods(app.router.routes, {"type": "http", "path": path, "method": "PUT", "headers": []})

    assert allowed("/things") == ["GET", "POST"]
    assert allowed("/things/one") == ["DELETE"]
    assert allowed("/page") == ["GET", "HEAD"]
    assert allowed("/files/x.js") == [] and allowed("/nowhere") == []


def test_the_limits_are_read_from_the_environment(monkeypatch):
    for name in ("HEADER_TIMEOUT", "BODY_TIMEOUT", "KEEP_ALIVE", "MAX_HEADER_BYTES", "MAX_CONNECTIONS"):
        monkeypatch.delenv(f"TIMELINE_{name}", raising=False)
    assert Settings.from_env().header_timeout_seconds == 10.0
    assert Settings.from_env().body_timeout_seconds == 30.0
    monkeypatch.setenv("TIMELINE_HEADER_TIMEOUT", "1.5")
    monkeypatch.setenv("TIMELINE_BODY_TIMEOUT", "2")
    monkeypatch.setenv("TIMELINE_KEEP_ALIVE", "7")
    monkeypatch.setenv("TIMELINE_MAX_HEADER_BYTES", "8192")
    monkeypatch.setenv("TIMELINE_MAX_CONNECTIONS", "100")
    settings = Settings.from_env()
    assert (settings.header_timeout_seconds, settings.body_timeout_seconds, settings.keep_alive_seconds) == (1.5, 2, 7)
    assert (settings.max_header_bytes, settings.max_connections) == (8192, 100)
    monkeypatch.setenv("TIMELINE_BODY_TIMEOUT", "0")
    with pytest.raises(ValueError, match="TIMELINE_BODY_TIMEOUT"):
        Settings.from_env()
