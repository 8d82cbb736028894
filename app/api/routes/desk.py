"""The editor's desk: one page (app/static/desk/) where a report becomes timeline entries.

The page holds no data and no secrets; its script works the record through the public API only,
with the editor's key, so this route only serves the page with the headers it needs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

DESK_DIR = Path(__file__).resolve().parents[2] / "static" / "desk"
ASSETS = ("desk.js", "desk.css")
VERSION_MARK = "ASSET_VERSION"

router = APIRouter(tags=["desk"])

# The desk handles an API key that may write: it runs only this service's own script, talks only
# to this service (the widget beside the work is this service's page too), and is never framed by
# another site (frame-ancestors 'none' against clickjacking an Accept button).
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'; object-src 'none'"
)


def asset_version() -> str:
    """A digest of the page's script and stylesheet: their URLs change whenever they do.

    The page links them relatively (`static/desk/desk.js?v=...`, under the /static mount) so that
    it works behind a proxy that serves the app under a prefix, with no templating of paths.
    """
    digest = hashlib.sha256()
    for name in ASSETS:
        digest.update((DESK_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


@router.get("/desk", response_class=HTMLResponse)
def desk_page() -> HTMLResponse:
    """The editor's desk: paste a report, decide its proposals, keep the record (a page for people)."""
    page = (DESK_DIR / "index.html").read_text(encoding="utf-8").replace(VERSION_MARK, asset_version())
    # no-cache: the page is revalidated on every load, so a new asset version is picked up at once.
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": PAGE_POLICY,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )
