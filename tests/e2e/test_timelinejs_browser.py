"""The ?format=timelinejs export in the real TimelineJS (@knight-lab/timelinejs from the npm registry,
its dist/ served locally) in headless Chromium: it loads without an error, one slide per entry."""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app.api.main import create_app
from app.config import Settings
from app.importing import import_batches, read_ndjson
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, INCIDENTS, SAMPLES, Console
from tests.support.live import ThreadedServer, free_port

DIST = Path(__file__).resolve().parent / "node_modules" / "@knight-lab" / "timelinejs" / "dist"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("backend", ["sqlite"]),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make test` installs it)"
    ),
]

if os.path.exists(CHROMIUM):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TimelineJS</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/css/timeline.css">
<script src="/js/timeline.js"></script>
</head><body>
<div id="timeline-embed" style="width: 1200px; height: 650px"></div>
<script>
  window.tlErrors = [];
  window.addEventListener("error", (e) => window.tlErrors.push(String(e.message)));
  fetch(EXPORT_URL).then((r) => r.json()).then((data) => {
    window.exported = data;
    // script_path must be absolute: a relative one throws, and the default is Knight Lab's CDN.
    const timeline = new TL.Timeline("timeline-embed", data, {script_path: location.origin + "/js/"});
    timeline.on("loaded", () => { window.tlLoaded = true; });
    window.timeline = timeline;
  }).catch((e) => window.tlErrors.push(String(e)));
</script>
</body></html>
"""


class TimelineJSSite:
    """TimelineJS's dist/ and one page that loads an export into it, on its own loopback origin."""

    def __init__(self):
        self.export_url = ""
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/article":
                    return super().do_GET()
                body = ARTICLE.replace("EXPORT_URL", json.dumps(site.export_url)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), functools.partial(Handler, directory=str(DIST)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not (DIST / "js" / "timeline.js").exists():
        pytest.fail("TimelineJS is not installed: run `npm install --prefix tests/e2e` (`make test` does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site() -> Iterator[TimelineJSSite]:
    with TimelineJSSite() as site:
        yield site


@pytest.fixture
def server(engine, database_url, site) -> Iterator[ThreadedServer]:
    with SAMPLES.open("rb") as stream:
        import_batches(engine, read_ndjson(stream))
    settings = Settings(database_url=database_url, cors_origins=(site.origin,), webhook_dispatcher=False)
    with ThreadedServer(create_app(settings, engine=engine)) as server:
        yield server


# TimelineJS's stylesheet loads its typefaces from Google Fonts. Nothing leaves this machine in a
# test: those requests are cut off, and the console errors about them (and only those) are allowed.
OFF_MACHINE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")
FONTS = ("https://fonts.gstatic.com/", "https://fonts.googleapis.com/")


class OfflineConsole(Console):
    def assert_clean(self, allow=(), allow_urls=()):
        super().assert_clean(allow, (*allow_urls, *FONTS))


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(OFF_MACHINE, lambda route: route.abort())
    page = context.new_page()
    yield page, OfflineConsole(page)
    context.close()


def load(page, site: TimelineJSSite, server: ThreadedServer, incident: str, query: str = "") -> dict:
    site.export_url = f"{server.url}/v1/incidents/{incident}/timeline?format=timelinejs{query}"
    page.goto(f"{site.origin}/article")
    page.wait_for_function("window.tlLoaded === true || window.tlErrors.length > 0", timeout=20_000)
    assert page.evaluate("window.tlErrors") == []
    return page.evaluate("window.exported")


@pytest.mark.parametrize("incident", INCIDENTS)
def test_the_export_loads_in_timelinejs_with_one_slide_per_entry(page, site, server, incident):
    page, console = page
    exported = load(page, site, server, incident, "&include_retracted=true")
    with httpx.Client(base_url=server.url) as api:
        entries = api.get(f"/v1/incidents/{incident}/timeline", params={"include_retracted": "true"}).json()["entries"]
    assert len(exported["events"]) == len(entries) > 0

    # TimelineJS accepted the data as valid, and shows no error message.
    assert page.evaluate("window.timeline.config.isValid()") is True
    assert page.evaluate("window.timeline.config.getErrors().length") == 0
    expect(page.locator(".tl-message-full, .tl-message-content").filter(has_text="rror")).to_have_count(0)

    # One slide per entry (plus the title slide), one marker per entry on its time axis,
    # with our ids, in time order.
    slides = page.locator(".tl-slide:not(.tl-slide-titleslide)")
    expect(slides).to_have_count(len(entries))
    expect(page.locator(".tl-slide-titleslide")).to_have_count(1)
    expect(page.locator(".tl-timemarker")).to_have_count(len(entries))
    assert slides.evaluate_all("ss => ss.map(s => s.id)") == [e["assertion_id"] for e in entries]
    # The original wording of each date is what TimelineJS shows.
    for e in entries:
        expect(page.locator(f'[id="{e["assertion_id"]}"] .tl-headline-date').first).to_have_text(
            e["occurred"]["display"]
        )
    console.assert_clean()


def test_vague_dates_span_their_range_on_the_timelinejs_axis(page, site, server):
    page, console = page
    load(page, site, server, "alex-pretti-shooting")
    # TimelineJS draws an event with an end_date as a marker with a visible span.
    ranged = page.locator('[id="videos-show-phone-marker"]')
    exact = page.locator('[id="pretti-shot-marker"]')
    expect(ranged).to_have_class(_has("tl-timemarker-with-end"))
    assert "tl-timemarker-with-end" not in (exact.get_attribute("class") or "")
    assert (
        ranged.locator(".tl-timemarker-timespan").bounding_box()["width"]
        > exact.locator(".tl-timemarker-timespan").bounding_box()["width"]
    )
    # Going to it brings up its slide, with the contradiction named.
    page.evaluate("window.timeline.goToId('videos-show-phone')")
    expect(ranged).to_have_class(_has("tl-timemarker-active"))
    slide = page.locator('[id="videos-show-phone"]')
    expect(slide.locator(".tl-headline")).to_have_text(
        "Videos appear to show Pretti holding only a phone as officers tackled him"
    )
    expect(slide.locator(".tl-text-content")).to_contain_text("Disputes:")
    console.assert_clean()


def _has(name: str):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
