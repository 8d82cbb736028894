"""The sender over httpx.MockTransport: what one attempt sends, and what it makes of every kind of answer.

The real receiver, real sockets and the SSRF-checking transport are in
tests/integration/test_dispatcher.py, test_webhook_safety.py and tests/e2e.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from standardwebhooks import Webhook

from app.store import StoredEvent
from app.webhooks.cloudevent import CONTENT_TYPE, to_cloudevent
from app.webhooks.model import Job, Sent
from app.webhooks.safety import USER_AGENT, BlockedDestination
from app.webhooks.sender import MAX_ERROR, Sender
from app.webhooks.signing import new_secret

RECORDED = datetime(2026, 1, 27, 9, 0, tzinfo=timezone.utc)
SECRET = new_secret()
EVENT = StoredEvent(
    position=7,
    incident_id="alpha",
    version=3,
    event_id="5b8f5e4e-8d0f-4b8e-9d7e-2f8f2e8f1a11",
    type="IncidentRevised",
    schema_version=1,
    data={"summary": "Gare du Nord, 14:30"},
    metadata={"correlation_id": "c-1"},
    reported_at=RECORDED,
    recorded_at=RECORDED,
)


def job(**changes) -> Job:
    values = dict(
        delivery_id=1,
        lease_token="token",
        subscription_id="sub",
        url="https://receiver.example/hook",
        event=EVENT,
        attempt=1,
        failures=0,
        first_failed_at=None,
        secrets=(SECRET,),
    )
    values.update(changes)
    return Job(**values)


def send(
    handler, the_job: Job | None = None, *, timeout: float = 5.0, max_body: int = 1024
) -> tuple[Sent, list[httpx.Request]]:
    """One attempt through a MockTransport answering with `handler`; the result and the requests made."""
    requests: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = handler(request)
        return await answer if asyncio.iscoroutine(answer) else answer

    async def main() -> Sent:
        sender = Sender(
            httpx.MockTransport(record), timeout=timeout, max_body=max_body, source="https://timeline.example"
        )
        try:
            return await sender.send(the_job or job())
        finally:
            await sender.aclose()

    return asyncio.run(main()), requests


def test_a_delivery_is_a_signed_cloudevent_post():
    result, (request,) = send(lambda request: httpx.Response(204))
    body = request.content.decode()
    assert (request.method, str(request.url)) == ("POST", "https://receiver.example/hook")
    assert body == to_cloudevent(EVENT.as_dict(), source="https://timeline.example")
    assert json.loads(body)["id"] == EVENT.event_id and json.loads(body)["incidentversion"] == 3
    assert request.headers["content-type"] == CONTENT_TYPE
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["webhook-id"] == EVENT.event_id
    assert int(request.headers["webhook-timestamp"]) == int(result.attempted_at.timestamp())
    Webhook(SECRET).verify(body, dict(request.headers))  # raises unless it verifies
    assert (result.status_code, result.error, result.retry_after) == (204, None, None)
    assert result.latency_ms >= 0 and result.attempted_at.tzinfo is not None


def test_during_a_rotation_both_secrets_sign():
    older = new_secret()
    _, (request,) = send(lambda request: httpx.Response(200), job(secrets=(SECRET, older)))
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, older):
        Webhook(secret).verify(request.content.decode(), dict(request.headers))


def test_a_redirect_is_a_failure_and_is_not_followed():
    result, requests = send(lambda request: httpx.Response(307, headers={"Location": "https://elsewhere.example/"}))
    assert len(requests) == 1
    assert result.status_code == 307
    assert result.error == "redirects are not followed (Location: https://elsewhere.example/)"


def test_the_response_body_is_kept_up_to_the_limit():
    result, _ = send(lambda request: httpx.Response(500, content=b"x" * 5000), max_body=100)
    assert (result.status_code, result.response_body, result.error) == (500, "x" * 100, None)
    nothing, _ = send(lambda request: httpx.Response(500, content=b"x" * 5000), max_body=0)
    assert nothing.response_body == ""


@pytest.mark.parametrize("header", ["120", "format"])
def test_retry_after_is_counted_from_the_answer(header):
    def answer(request):
        value = (
            header
            if header != "format"
            else format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
        )
        return httpx.Response(429, headers={"Retry-After": value})

    result, _ = send(answer)
    assert result.status_code == 429
    # From the attempt's start: the wait asked for, plus however long the answer took.
    assert 118 <= result.retry_after <= 121


def test_an_unusable_retry_after_is_ignored():
    result, _ = send(lambda request: httpx.Response(503, headers={"Retry-After": "soon"}))
    assert (result.status_code, result.retry_after) == (503, None)


def test_a_connection_failure_is_an_attempt_without_a_status():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    result, _ = send(refuse)
    assert (result.status_code, result.error) == (None, "ConnectError: [Errno 111] Connection refused")


def test_a_destination_the_policy_refuses_is_logged_as_such():
    def blocked(request):
        raise BlockedDestination("webhook URL resolves to 127.0.0.1, a loopback address", kind="loopback")

    result, _ = send(blocked)
    assert result.status_code is None
    assert result.error == "refused by the destination policy: webhook URL resolves to 127.0.0.1, a loopback address"


def test_no_complete_answer_within_the_timeout_is_a_failure():
    async def hang(request):
        await asyncio.Event().wait()  # never answers: the attempt's own deadline ends it

    result, _ = send(hang, timeout=0.05)
    assert (result.status_code, result.error) == (None, "no complete response within 0.05 s")
    assert result.latency_ms >= 50


class BrokenOff(httpx.AsyncByteStream):
    async def __aiter__(self):
        yield b"partial"
        raise httpx.ReadError("connection reset")


def test_a_2xx_whose_body_then_breaks_off_keeps_its_status():
    result, _ = send(lambda request: httpx.Response(200, stream=BrokenOff()))
    assert result.status_code == 200 and result.error == "ReadError: connection reset"


def test_anything_unexpected_is_an_error_not_a_crash(caplog):
    def broken(request):
        raise ValueError("a bug")

    result, _ = send(broken)
    assert (result.status_code, result.error) == (None, "unexpected error: ValueError")
    assert "unexpected error delivering" in caplog.text


def test_errors_are_cut_to_the_log_column():
    def refuse(request):
        raise httpx.ConnectError("x" * 5000)

    result, _ = send(refuse)
    assert len(result.error) == MAX_ERROR
