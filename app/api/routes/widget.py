"""The embeddable timeline widget: a page made for an iframe, and the static script any page can load."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.api.deps import SettingsDep, StoreDep
from app.api.problems import documented
from app.projections.incident import fold_incident
from app.store import EventStore
from events.admissible import MAX_INT

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
INCIDENT_EVENTS = ("IncidentOpened", "IncidentRevised", "IncidentsLinked")

router = APIRouter(tags=["widget"])


def static_files() -> StaticFiles:
    """The widget's script and stylesheet, served under /static (no build step)."""
    # Served to anyone, also with TIMELINE_PUBLIC_READ=false: they are the same code for every
    # incident and hold no data (the data comes from the API, which checks the key). A key could
    # not be asked for anyway: <script src> and <link href> cannot send an Authorization header.
    return StaticFiles(directory=STATIC_DIR)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · timeline</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}/static/timeline-widget.css">
<script src="{root}/static/timeline-widget.js" defer></script>
</head>
<body class="tlw-page">
<main>
<div data-timeline-widget data-api="{root}" data-incident="{incident}"{options}>
<noscript>The timeline widget needs JavaScript; the data is at
<a href="{root}/v1/incidents/{incident}/timeline">{root}/v1/incidents/{incident}/timeline</a>.</noscript>
</div>
</main>
</body>
</html>
"""

# The page is made to be framed by any site (frame-ancestors *), but runs only this service's own
# script and talks only to this service: nothing in the data can bring in code from elsewhere.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; frame-ancestors *; base-uri 'none'; form-action 'none'; "
    "object-src 'none'"
)

NOT_FOUND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>No such incident</title></head>
<body><main><h1>No such incident</h1><p>There is no incident {incident}.</p></main></body></html>
"""


def _title(store: EventStore, incident_id: str) -> str | None:
    if store.incident_version(incident_id) is None:
        return None
    incident = fold_incident(
        incident_id, ((e.type, e.data) for e in store.read_types(INCIDENT_EVENTS, incident_id=incident_id))
    )
    return incident["title"] or incident_id


@router.get(
    "/widget/incidents/{incident_id}",
    response_class=HTMLResponse,
    responses={
        404: {"description": "No such incident (an HTML page; public reads only)", "content": {"text/html": {}}},
        **documented(422),
    },
)
async def widget_page(
    incident_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    kind: Annotated[list[str] | None, Query(description="show only these kinds at first")] = None,
    as_of_version: Annotated[int | None, Query(ge=0, le=MAX_INT, description="open at this version")] = None,
    live: Annotated[bool, Query(description="follow new events as they are appended")] = True,
):
    """A page showing one incident's timeline, made to be embedded in an iframe."""
    options = ""
    if settings.public_read:
        title = await anyio.to_thread.run_sync(_title, store, incident_id)
        if title is None:
            return HTMLResponse(NOT_FOUND.format(incident=html.escape(incident_id)), status_code=404)
    else:
        # Private reads: a page load carries no key (a browser navigation cannot send one), so
        # the page tells nothing, not even whether the incident exists: the same page for every
        # id, whose script asks for a key and lets the API decide.
        title = "API key needed"
        options += ' data-needs-key="true"'
    kinds = [k.strip() for value in kind or [] for k in value.split(",") if k.strip()]
    if kinds:
        options += f' data-kinds="{html.escape(",".join(kinds))}"'
    if as_of_version is not None:
        options += f' data-as-of-version="{as_of_version}"'
    if not live:
        options += ' data-live="false"'
    # The root path keeps the page working behind a proxy that mounts the app under a prefix.
    root = html.escape(request.scope.get("root_path", "").rstrip("/"))
    page = PAGE.format(title=html.escape(title), root=root, incident=html.escape(incident_id), options=options)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_POLICY})
