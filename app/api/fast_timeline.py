"""The front-page read, answered from memory: `GET` (or `HEAD`) of an incident's timeline with no
query and no API key, when this process knows the incident's version and has the body rendered.

That read is what every reader of an article with an embedded widget makes. Through FastAPI it
costs about a millisecond before the route runs (matching ~80 routes, then solving the route's
dependencies and validating its query parameters); this ASGI middleware answers it with the same
ETag, Cache-Control, type and body as the route, from the same cache, after a look at the path and
two dictionaries. Anything else (a query, a key, a version not known without the database, a body
not rendered yet, reads that need a key) goes on to the route, which also fills the cache.
"""

from __future__ import annotations

import asyncio
import logging
import re
from types import SimpleNamespace
from typing import Any

from app.api.routes.timeline import not_modified, public_cache_control, timeline_etag
from app.projections.heads import HeadVersions
from app.projections.timeline import CutOff, Filters
from events.actors import ACTORS_STREAM

PATH = re.compile(r"/v1/incidents/([^/]+)/timeline")
TEMPLATE = "/v1/incidents/{incident_id}/timeline"
log = logging.getLogger("timeline.api")
NOW, EVERYTHING = CutOff(), Filters()
ROUTE = SimpleNamespace(path=TEMPLATE)


class FastTimeline:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not scope["query_string"]:
            matched = PATH.fullmatch(scope["path"])
            if matched is not None and await self._answer(scope, send, matched.group(1)):
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: dict[str, Any], send: Any, incident_id: str) -> bool:
        state = scope["app"].state
        if not state.settings.public_read:
            return False
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return False  # a key's read: the route checks it and answers privately
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        version, actors = state.reads.fresh_version(incident_id, NOW), state.reads.fresh_actors_version()
        if version is None or actors is None:
            return False
        _refresh_ahead(state.reads.heads, incident_id)
        etag = timeline_etag(incident_id, version, NOW, EVERYTHING, False, "json", actors)
        headers = [(b"etag", etag.encode()), (b"cache-control", public_cache_control(state.settings).encode())]
        if not_modified(if_none_match, etag):
            self._label(scope)
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        rendered = state.rendered.get(etag)
        if rendered is None:
            return False
        headers += [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in (*rendered.headers, *state.log.checkpoint_header(rendered.position).items())
        ]
        headers.append((b"content-length", str(len(rendered.body)).encode()))
        self._label(scope)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else rendered.body})
        return True

    @staticmethod
    def _label(scope: dict[str, Any]) -> None:
        scope["route"] = ROUTE  # named for the request metrics (app.metrics.RequestTimer) as the router would


def _refresh_ahead(heads: HeadVersions, incident_id: str) -> None:
    """Read a busy incident's head (and the registry's) again in the background before its copy is
    due, so that under load no reader finds it due and waits for the database."""
    for stream_id in (incident_id, ACTORS_STREAM):
        claimed = heads.claim_refresh(stream_id)
        if claimed is not None:
            done = asyncio.get_running_loop().run_in_executor(None, heads.refresh, stream_id, claimed)
            done.add_done_callback(_log_failure)


def _log_failure(done: asyncio.Future) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("could not refresh a timeline's version in the background", exc_info=done.exception())
