"""Sending one delivery attempt: a signed CloudEvents POST over an injected httpx transport.

Production sends through `safety.PolicyTransport` (the destination policy, checked on the
resolved address at connect time); tests may inject `httpx.MockTransport`. Redirects are never
followed, and every failure (refused destination, timeout, connection error, anything
unexpected) becomes a `Sent` with its error, never an exception: one attempt cannot take the
worker down.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx

from app.db import utcnow
from app.webhooks.backoff import parse_retry_after
from app.webhooks.cloudevent import CONTENT_TYPE, to_cloudevent
from app.webhooks.model import Job, Sent
from app.webhooks.safety import BlockedDestination, webhook_client
from app.webhooks.signing import sign_headers

__all__ = ["MAX_ERROR", "Sender"]

logger = logging.getLogger("timeline.webhooks")

MAX_ERROR = 1000  # the attempt log's error column


class Sender:
    def __init__(self, transport: httpx.AsyncBaseTransport, *, timeout: float, max_body: int, source: str = ""):
        self.timeout = timeout
        self.max_body = max_body
        self.source = source
        self._client = webhook_client(transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, job: Job) -> Sent:
        attempted_at = utcnow()
        status_code: int | None = None
        error: str | None = None
        response_body: str | None = None
        retry_after: float | None = None
        started = time.perf_counter()
        try:
            body = to_cloudevent(job.event.as_dict(), source=self.source)
            headers = sign_headers(job.event_id, attempted_at, body, job.secrets)
            headers["content-type"] = CONTENT_TYPE
            # The client's timeout bounds each phase (connect, each read); this bounds the
            # whole attempt, so a receiver that trickles bytes cannot hold a slot for long.
            async with asyncio.timeout(self.timeout):
                async with self._client.stream("POST", job.url, content=body.encode(), headers=headers) as response:
                    status_code = response.status_code
                    if "retry-after" in response.headers:
                        answered_at = utcnow()
                        wait = parse_retry_after(response.headers["retry-after"], answered_at)
                        if wait is not None:
                            # Counted from the answer; the retry is scheduled from the attempt.
                            retry_after = wait + (answered_at - attempted_at).total_seconds()
                    if 300 <= status_code < 400:
                        error = f"redirects are not followed (Location: {response.headers.get('location', '')})"
                    response_body = await _read_some(response, self.max_body)
        except BlockedDestination as exc:
            error = f"refused by the destination policy: {exc}"
        except TimeoutError:
            error = f"no complete response within {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # never let one attempt take the worker down
            logger.exception("unexpected error delivering %s to %s", job.event_id, job.url)
            error = f"unexpected error: {type(exc).__name__}"
        latency_ms = (time.perf_counter() - started) * 1000
        return Sent(attempted_at, latency_ms, status_code, error and error[:MAX_ERROR], response_body, retry_after)


async def _read_some(response: httpx.Response, limit: int) -> str:
    """Up to `limit` bytes of the response body, as text; the rest is not read."""
    if limit <= 0:
        return ""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit].decode("utf-8", errors="replace")
