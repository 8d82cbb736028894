"""Live updates: an incident's events as they are appended, as server-sent events resumable by version."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.api.deps import Reader, ReadsDep
from app.api.problems import Problem, documented
from app.api.serialize import envelope
from app.notify import AppendSignal
from app.projections.reads import TimelineReads
from events.admissible import MAX_INT

router = APIRouter(tags=["timelines"])

# Read at request time (not bound at import) so a test can shorten them.
PING_SECONDS = 15.0  # keep-alive comment lines, so proxies do not close an idle stream
PAGE = 200  # events read per query while catching up
RETRY_MS = 2000  # how long a browser's EventSource waits before reconnecting

STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "`text/event-stream`. First a `ready` message (`id` = the version the stream starts after, "
            "`data` = `{incident_id, version, after_version}`), then one `appended` message per stored "
            "event in version order (`id` = the incident version, `data` = the event envelope as in "
            "`/v1/incidents/{id}/events`), and keep-alive comments. Reconnect with `Last-Event-ID` to resume."
        ),
        "content": {"text/event-stream": {}},
    }
}


def _resume_point(last_event_id: str | None, after_version: int | None) -> int | None:
    """Where a stream starts: `Last-Event-ID` wins over `after_version`, because a browser reconnects
    to the same URL (with the `after_version` it first asked for) and adds the id it last saw."""
    if last_event_id is not None and last_event_id.strip():
        value = last_event_id.strip()
        # ASCII digits only: str.isdigit() also admits "²", which int() refuses.
        if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > MAX_INT:
            raise Problem(
                422,
                "invalid-last-event-id",
                f"Last-Event-ID must be an incident version (0 to {MAX_INT}), not {value!r}",
                errors=[{"field": "Last-Event-ID", "message": f"an incident version, 0 to {MAX_INT}"}],
            )
        return int(value)
    return after_version


@router.get(
    "/v1/incidents/{incident_id}/stream",
    response_class=EventSourceResponse,
    responses={**STREAM_DOC, **documented(401, 403, 404, 422)},
)
async def stream(
    incident_id: str,
    request: Request,
    _: Reader,
    reads: ReadsDep,
    after_version: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="resume after this version (default: the current end)")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
):
    """The incident's events as they are appended (server-sent events; each message's id is the version)."""
    current = await anyio.to_thread.run_sync(reads.current_version, incident_id)
    start = _resume_point(last_event_id, after_version)
    # A resume point past the end (a store rebuilt since the client last saw it) would skip
    # everything up to that number: start from the end instead, which the ready message says.
    start = current if start is None or start > current else start
    return EventSourceResponse(_messages(request, reads, incident_id, start, current), ping=PING_SECONDS)


async def _messages(
    request: Request, reads: TimelineReads, incident_id: str, start: int, current: int
) -> AsyncIterator[ServerSentEvent]:
    signal = request.app.state.appended
    clients = request.app.state.metrics.stream_clients
    clients.inc()
    try:
        poll = request.app.state.settings.stream_poll_seconds
        async for message in _follow(reads, signal, poll, incident_id, start, current):
            yield message
    finally:
        clients.dec()


async def _follow(
    reads: TimelineReads, signal: AppendSignal, poll: float, incident_id: str, start: int, current: int
) -> AsyncIterator[ServerSentEvent]:
    # The ready message carries an id too: a client that drops before any event arrives
    # resumes from here instead of from whatever the end is when it reconnects.
    yield ServerSentEvent(
        json.dumps({"incident_id": incident_id, "version": current, "after_version": start}),
        event="ready",
        id=str(start),
        retry=RETRY_MS,
    )
    after = start
    while True:
        # Take the generation before reading: an append that lands between the read and the
        # wait bumps it, so the wait returns at once instead of sleeping on a stale read.
        generation = signal.generation
        page = await anyio.to_thread.run_sync(partial(reads.events_after, incident_id, after, PAGE))
        for event in page:
            yield ServerSentEvent(
                json.dumps(envelope(event), separators=(",", ":")), event="appended", id=str(event.version)
            )
            after = event.version
        if len(page) == PAGE:
            continue
        # Appends this process hears of (its own; on PostgreSQL every process's) wake us at once;
        # the poll finds the rest (other processes' on SQLite). Client disconnects and server
        # shutdown cancel this wait (sse-starlette watches both), so an open stream never holds
        # up uvicorn's shutdown.
        await signal.wait(generation, poll)
