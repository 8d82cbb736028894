"""The embeddable widget in real headless Chromium against a real server holding the sample incidents:
vague dates as ranges, disputes from both sides, retractions, the as-of control, kind filters, live
updates (also across a dropped connection), keyboard use, phone and desktop widths, no console errors.

Screenshots land in test-artifacts/ (docs/widget-*.png are copies of them)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app.api.main import create_app
from app.config import Settings
from app.importing import import_batches, read_ndjson
from app.store import EventStore, NewEvent
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, INCIDENTS, SAMPLES, Console
from tests.support.live import ServerProcess, ThreadedServer, free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PRETTI = "alex-pretti-shooting"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.e2e,
    # The browser runs against SQLite only; the API under it is tested on both backends elsewhere.
    pytest.mark.parametrize("backend", ["sqlite"]),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make test` installs it)"
    ),
]

if os.path.exists(CHROMIUM):
    from playwright.sync_api import Page, expect, sync_playwright

    expect.set_options(timeout=15_000)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def load_samples(engine) -> None:
    with SAMPLES.open("rb") as stream:
        import_batches(engine, read_ndjson(stream))


@pytest.fixture
def writer(keys) -> dict[str, str]:
    _, secret = keys.create("newsdesk", frozenset({"write"}))
    return {"Authorization": f"Bearer {secret}"}


class HostSite:
    """Another site (another origin, on loopback like the API) with one article page embedding the widget."""

    def __init__(self):
        site = self
        self.article = ""
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"<!doctype html><html lang=en><head><title>Article</title><link rel=icon href='data:,'></head><body>{site.article}</body></html>".encode()
                self.send_response(200 if self.path == "/article" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def host() -> Iterator[HostSite]:
    with HostSite() as site:
        yield site


@pytest.fixture
def server(engine, database_url, host) -> Iterator[ThreadedServer]:
    load_samples(engine)
    settings = Settings(database_url=database_url, cors_origins=(host.origin,), webhook_dispatcher=False)
    with ThreadedServer(create_app(settings, engine=engine)) as server:
        yield server


@pytest.fixture
def api(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def new_page(browser, viewport=DESKTOP, **options):
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    return context, page, Console(page)


@pytest.fixture
def desktop(browser, server):
    # Depends on the server so that it closes first: a page left open holds its event stream,
    # and uvicorn waits for open responses before it stops.
    context, page, console = new_page(browser)
    yield page, console
    context.close()


def open_widget(page: "Page", url: str, incident: str = PRETTI, query: str = "") -> None:
    page.goto(f"{url}/widget/incidents/{incident}{query}")
    expect(page.locator(".tlw")).to_have_attribute("data-state", "ready")


def entry(page: "Page", assertion_id: str):
    return page.locator(f'li.tlw-entry[data-assertion-id="{assertion_id}"]')


def timeline(api: httpx.Client, incident: str = PRETTI, **params) -> dict:
    return api.get(f"/v1/incidents/{incident}/timeline", params={"include_retracted": "true", **params}).json()


def append(api: httpx.Client, writer, incident: str, *events) -> dict:
    response = api.post(f"/v1/incidents/{incident}/events", json={"events": list(events)}, headers=writer)
    assert response.status_code == 201, response.text
    return response.json()


def recorded(assertion_id: str, headline: str, occurred: str = "2026-02-02", kind: str = "official_statement") -> dict:
    return {
        "type": "AssertionRecorded",
        "data": {
            "assertion_id": assertion_id,
            "kind": kind,
            "occurred": occurred,
            "headline": headline,
            "attributed_to": "Minneapolis police chief",
            "sources": [{"outlet": "FOX 9", "quote": "on Monday"}],
        },
    }


# -- what the widget shows ---------------------------------------------------------------------


@pytest.mark.parametrize("incident", INCIDENTS)
def test_the_widget_renders_each_sample_incident(desktop, server, api, incident):
    page, console = desktop
    open_widget(page, server.url, incident)
    body = timeline(api, incident)
    assert body["entries"], "the sample incident has entries"
    expect(page.get_by_role("heading", level=2)).to_have_text(body["incident"]["title"])
    items = page.locator("ol.tlw-list > li.tlw-entry")
    expect(items).to_have_count(len(body["entries"]))
    # In the API's order (by when it happened), each a list item headed by its headline.
    assert items.evaluate_all("lis => lis.map(li => li.dataset.assertionId)") == [
        e["assertion_id"] for e in body["entries"]
    ]
    headings = page.locator("ol.tlw-list > li.tlw-entry h3")
    expect(headings).to_have_text([e["headline"] for e in body["entries"]])
    for e in body["entries"]:
        item = entry(page, e["assertion_id"])
        expect(item.locator(".tlw-display")).to_have_text(e["occurred"]["display"])
        expect(item.locator(".tlw-kind-badge")).to_have_text(e["kind"].replace("_", " ").capitalize())
        expect(item.locator(".tlw-outlet")).to_have_text([s["outlet"] for s in e["sources"]])
        if e["attributed_to"]:
            expect(item.locator(".tlw-attribution")).to_have_text(f"According to {e['attributed_to']}")
    expect(page.locator(".tlw")).to_have_attribute("data-live", "connected")
    console.assert_clean()


def test_a_vague_date_shows_as_a_range(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    entries = {e["assertion_id"]: e for e in timeline(api)["entries"]}
    vague, exact = entries["videos-show-phone"], entries["pretti-shot"]
    assert (vague["occurred"]["earliest"], vague["occurred"]["latest"]) == ("2026-01-24", "2026-02-02")
    assert exact["occurred"]["earliest"] == exact["occurred"]["latest"] == "2026-01-24"

    # Labelled with its display date, and drawn as a bar from earliest to latest.
    expect(entry(page, "videos-show-phone").locator(".tlw-display")).to_have_text("Jan 24 – Feb 2, 2026")
    expect(entry(page, "videos-show-phone")).to_have_class(lambda_has("tlw-vague"))
    bar = entry(page, "videos-show-phone").locator(".tlw-track-range").bounding_box()
    day = entry(page, "pretti-shot").locator(".tlw-track-day").bounding_box()
    assert abs(bar["x"] - (day["x"] + day["width"] / 2)) < 4  # both start on Jan 24
    mark = page.locator('.tlw-axis .tlw-mark-range[data-assertion-id="videos-show-phone"]').bounding_box()
    dot = page.locator('.tlw-axis .tlw-mark-day[data-assertion-id="pretti-shot"]').bounding_box()
    lanes = page.locator(".tlw-axis-lanes").bounding_box()
    assert mark["width"] > 8 * dot["width"]
    # Ten days out of the axis' span: the bar's length is in proportion.
    axis_days = page.evaluate("""() => {
        const w = document.querySelector('[data-timeline-widget]').timelineWidget;
        const s = w.scale(w.data.entries); return s.to - s.from; }""")
    assert mark["width"] == pytest.approx(lanes["width"] * 10 / axis_days, rel=0.05)
    console.assert_clean()


def test_an_open_ended_date_is_drawn_to_the_edge_of_the_axis(desktop, server, api, writer):
    page, console = desktop
    append(api, writer, PRETTI, recorded("protests-continue", "Protests continue", occurred="2026-01-26/.."))
    since = next(e for e in timeline(api)["entries"] if e["assertion_id"] == "protests-continue")["occurred"]
    assert (since["earliest"], since["latest"]) == ("2026-01-26", "9999-12-31")
    open_widget(page, server.url)
    item = entry(page, "protests-continue")
    expect(item.locator(".tlw-display")).to_have_text("since Jan 26, 2026")
    expect(item.locator(".tlw-range-text")).to_have_text("open-ended: one end is not known")
    axis_days = page.evaluate("""() => {
        const w = document.querySelector('[data-timeline-widget]').timelineWidget;
        const s = w.scale(w.data.entries); return s.to - s.from; }""")
    assert axis_days < 60  # the axis still spans the story's weeks, not eight thousand years
    mark = page.locator('.tlw-axis .tlw-mark-range[data-assertion-id="protests-continue"]').bounding_box()
    lanes = page.locator(".tlw-axis-lanes").bounding_box()
    assert mark["x"] + mark["width"] == pytest.approx(lanes["x"] + lanes["width"], abs=lanes["width"] * 0.03)
    console.assert_clean()


def test_a_month_precision_date_is_a_range_with_its_wording(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url, "renee-good-shooting")
    shot = next(e for e in timeline(api, "renee-good-shooting")["entries"] if e["assertion_id"] == "good-shot")
    assert shot["occurred"]["precision"] == "month"
    item = entry(page, "good-shot")
    expect(item.locator(".tlw-display")).to_have_text(shot["occurred"]["display"])
    expect(item.locator(".tlw-range-text")).to_contain_text("Jan 1")
    expect(item.locator(".tlw-range-text")).to_contain_text("31, 2026")
    console.assert_clean()


def test_a_dispute_is_visible_from_both_sides(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    entries = {e["assertion_id"]: e for e in timeline(api)["entries"]}
    claim, video = entry(page, "noem-weapon-claim"), entry(page, "videos-show-phone")
    assert "videos-show-phone" in entries["noem-weapon-claim"]["disputed_by"]

    # The disputed claim: a visible marker, and links to everything that contradicts it.
    expect(claim.locator(".tlw-badge-disputed")).to_be_visible()
    expect(claim.locator(".tlw-dispute-by")).to_have_text("⚠Disputed by")
    links = claim.locator(".tlw-dispute-link")
    expect(links).to_have_text([entries[i]["headline"] for i in entries["noem-weapon-claim"]["disputed_by"]])
    # The other side names what it contradicts.
    expect(video.locator(".tlw-dispute-of")).to_have_text("⇄Disputes")
    back = video.locator('.tlw-dispute-link[data-target="noem-weapon-claim"]')
    expect(back).to_have_text(entries["noem-weapon-claim"]["headline"])
    expect(video.locator(".tlw-dispute-note").first).to_contain_text("phone")

    # Hover lights up both sides; keyboard focus does too; Enter jumps to the other side.
    link = claim.locator('.tlw-dispute-link[data-target="videos-show-phone"]')
    link.hover()
    expect(video).to_have_class(lambda_has("tlw-linked"))
    expect(claim).to_have_class(lambda_has("tlw-linked"))
    page.mouse.move(0, 0)
    expect(video).not_to_have_class(lambda_has("tlw-linked"))
    back.focus()
    expect(claim).to_have_class(lambda_has("tlw-linked"))
    page.keyboard.press("Enter")
    expect(claim).to_be_focused()
    expect(claim).to_be_in_viewport()
    console.assert_clean()


def test_a_retraction_is_struck_through_with_its_reason(desktop, server, api, writer):
    append(
        api,
        writer,
        PRETTI,
        {
            "type": "AssertionRetracted",
            "data": {"assertion_id": "ny-post-misfire-report", "reason": "The Post withdrew the report"},
        },
    )
    page, console = desktop
    open_widget(page, server.url)
    item = entry(page, "ny-post-misfire-report")
    expect(item).to_have_class(lambda_has("tlw-retracted"))
    expect(item.locator("h3 s")).to_have_text(
        next(e["headline"] for e in timeline(api)["entries"] if e["assertion_id"] == "ny-post-misfire-report")
    )
    assert item.locator("h3 s").evaluate("s => getComputedStyle(s).textDecorationLine") == "line-through"
    expect(item.locator(".tlw-retraction")).to_have_text("Retracted: The Post withdrew the report")
    expect(item.locator(".tlw-badge-retracted")).to_be_visible()
    # Hidden on request, shown again on request.
    page.get_by_label("Show retracted entries").uncheck()
    expect(item).to_have_count(0)
    page.get_by_label("Show retracted entries").check()
    expect(item).to_have_count(1)
    console.assert_clean()


def test_a_publication_day_shows_as_the_day_and_a_time_as_its_minute(desktop, server, api, writer):
    append(
        api,
        writer,
        PRETTI,
        {
            "type": "SourceAttached",
            "reported_at": "2026-02-03T15:30:00Z",
            "data": {
                "assertion_id": "doj-civil-rights-investigation",
                "source": {"outlet": "Timed Wire", "published_at": "2026-02-03T15:30:00Z"},
            },
        },
    )
    page, console = desktop
    open_widget(page, server.url)
    item = entry(page, "pretti-shot")
    expect(item.locator(".tlw-first")).to_have_text("First reported Feb 2, 2026")
    expect(item.locator(".tlw-published").first).to_have_text(" · Feb 2, 2026")
    timed = entry(page, "doj-civil-rights-investigation").locator(".tlw-published").last
    expect(timed).to_contain_text("Feb 3, 2026")
    expect(timed).to_contain_text("03:30 PM")
    expect(timed).to_contain_text("UTC")
    console.assert_clean()


def test_sources_link_out_and_quotes_open_on_demand(desktop, server, api, writer):
    append(
        api,
        writer,
        PRETTI,
        {
            "type": "SourceAttached",
            "data": {
                "assertion_id": "doj-civil-rights-investigation",
                "source": {
                    "outlet": "Example Wire",
                    "url": "https://wire.example/doj-probe",
                    "quote": "opened a civil rights probe",
                },
            },
        },
    )
    page, console = desktop
    open_widget(page, server.url)
    item = entry(page, "doj-civil-rights-investigation")
    link = item.get_by_role("link", name="Example Wire")
    expect(link).to_have_attribute("href", "https://wire.example/doj-probe")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    quote = item.locator(".tlw-quote").last
    expect(quote.locator("blockquote")).not_to_be_visible()
    quote.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(quote.locator("blockquote")).to_have_text("opened a civil rights probe")
    expect(quote.locator("blockquote")).to_be_visible()
    page.keyboard.press("Space")
    expect(quote.locator("blockquote")).not_to_be_visible()
    console.assert_clean()


def test_the_as_of_control_replays_earlier_versions(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    now = timeline(api)
    head = now["version"]
    versions = {
        e["version"]: e for e in api.get(f"/v1/incidents/{PRETTI}/events", params={"limit": 1000}).json()["events"]
    }
    first_dispute = min(v for v, e in versions.items() if e["type"] == "AssertionDisputed")
    disputed = versions[first_dispute]["data"]["assertion_id"]
    disputing = versions[first_dispute]["data"]["by_assertion_id"]
    before = timeline(api, as_of_version=first_dispute - 1)
    assert 0 < len(before["entries"]) < len(now["entries"])

    widget, items = page.locator(".tlw"), page.locator("li.tlw-entry")
    expect(items).to_have_count(len(now["entries"]))
    slider = page.get_by_label("As of", exact=True)
    expect(slider).to_have_attribute("max", str(head))

    # Keyboard: Home goes back to the first version, where nothing had been recorded yet.
    slider.focus()
    page.keyboard.press("Home")
    expect(widget).to_have_attribute("data-version", "1")
    expect(items).to_have_count(0)
    expect(page.locator(".tlw-empty")).to_have_text("Nothing had been recorded about this incident at this version.")
    expect(page.locator(".tlw-moment")).to_contain_text("Incident opened")

    # Just before the first dispute: the claims are there, the contradiction is not yet.
    slider.fill(str(first_dispute - 1))
    expect(widget).to_have_attribute("data-version", str(first_dispute - 1))
    expect(items).to_have_count(len(before["entries"]))
    expect(entry(page, disputed)).to_have_count(1)
    expect(entry(page, disputed).locator(".tlw-badge-disputed")).to_have_count(0)
    expect(page.locator(".tlw-moment")).to_contain_text(f"Version {first_dispute - 1} of {head}")
    expect(page.locator(".tlw-status")).to_contain_text(f"Showing version {first_dispute - 1}")

    # One step later (the button, as a phone user would) the dispute appears.
    page.get_by_role("button", name="Later version").click()
    expect(widget).to_have_attribute("data-version", str(first_dispute))
    expect(entry(page, disputed).locator(".tlw-badge-disputed")).to_be_visible()
    expect(entry(page, disputing).locator(f'.tlw-dispute-link[data-target="{disputed}"]')).to_be_visible()

    page.get_by_role("button", name="Latest").click()
    expect(widget).to_have_attribute("data-version", str(head))
    expect(items).to_have_count(len(now["entries"]))
    expect(page.locator(".tlw-status")).to_contain_text("Live")
    console.assert_clean()


def test_kinds_filter_the_entries(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    entries = timeline(api)["entries"]
    statements = [e["assertion_id"] for e in entries if e["kind"] == "official_statement"]
    items = page.locator("li.tlw-entry")
    expect(items).to_have_count(len(entries))

    box = page.get_by_label("Official statement")
    box.focus()
    page.keyboard.press("Space")  # keyboard toggles a kind off
    expect(box).not_to_be_checked()
    expect(items).to_have_count(len(entries) - len(statements))
    expect(page.locator('li.tlw-entry[data-kind="official_statement"]')).to_have_count(0)
    expect(page.locator(".tlw-axis .tlw-mark.tlw-k-official_statement")).to_have_count(0)
    expect(box).to_be_focused()  # re-rendering keeps the keyboard user's place

    # A dispute link to a filtered-out claim still works: following it brings the claim back.
    video = entry(page, "videos-show-phone")
    expect(video.locator('.tlw-dispute-link[data-target="noem-weapon-claim"] + .tlw-dispute-meta')).to_contain_text(
        "hidden by the filters"
    )
    video.locator('.tlw-dispute-link[data-target="noem-weapon-claim"]').click()
    expect(entry(page, "noem-weapon-claim")).to_be_focused()

    page.get_by_role("button", name="All kinds").click()
    expect(items).to_have_count(len(entries))
    console.assert_clean()


def test_the_widget_page_can_start_filtered_and_in_the_past(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url, query="?kind=investigation_finding&as_of_version=30&live=false")
    expected = [e for e in timeline(api, as_of_version=30)["entries"] if e["kind"] == "investigation_finding"]
    expect(page.locator(".tlw")).to_have_attribute("data-version", "30")
    expect(page.locator("li.tlw-entry")).to_have_count(len(expected))
    expect(page.locator(".tlw-status")).to_have_text("Not following live updates")
    console.assert_clean()


# -- live updates ------------------------------------------------------------------------------


def test_an_appended_event_appears_without_a_reload(desktop, server, api, writer):
    page, console = desktop
    open_widget(page, server.url)
    widget = page.locator(".tlw")
    expect(widget).to_have_attribute("data-live", "connected")
    page.evaluate("window.__sameDocument = true")
    count = page.locator("li.tlw-entry").count()

    result = append(api, writer, PRETTI, recorded("chief-statement", "Police chief asks for calm", "2026-01-25"))
    item = entry(page, "chief-statement")
    expect(item.locator("h3")).to_have_text("Police chief asks for calm")
    expect(page.locator("li.tlw-entry")).to_have_count(count + 1)
    expect(widget).to_have_attribute("data-version", str(result["version"]))
    expect(page.get_by_label("As of", exact=True)).to_have_attribute("max", str(result["version"]))
    # In time order, not at the end: Jan 25 comes before the ranges starting Jan 26.
    ids = page.locator("li.tlw-entry").evaluate_all("lis => lis.map(li => li.dataset.assertionId)")
    assert ids.index("chief-statement") < ids.index("cbp-tells-congress-two-fired")

    append(
        api,
        writer,
        PRETTI,
        {"type": "AssertionRetracted", "data": {"assertion_id": "chief-statement", "reason": "Misattributed"}},
    )
    expect(item).to_have_class(lambda_has("tlw-retracted"))
    expect(item.locator(".tlw-retraction")).to_have_text("Retracted: Misattributed")
    assert page.evaluate("window.__sameDocument") is True  # never reloaded
    console.assert_clean()


def test_the_widget_resumes_after_the_connection_drops(browser, database_url, engine):
    """The server goes away mid-session and comes back; what was appended meanwhile appears."""
    load_samples(engine)
    env = {"TIMELINE_DATABASE_URL": database_url, "TIMELINE_WEBHOOK_DISPATCHER": "false"}
    first = ServerProcess(env).start()
    second = ServerProcess(env)
    second.port, second.url = first.port, first.url  # the same address, as after a restart
    context, page, console = new_page(browser)
    try:
        open_widget(page, first.url)
        widget = page.locator(".tlw")
        expect(widget).to_have_attribute("data-live", "connected")
        page.evaluate("window.__sameDocument = true")

        first.stop()  # SIGTERM: the stream is closed under the page
        expect(widget).to_have_attribute("data-live", "reconnecting")
        EventStore(engine).append(PRETTI, [NewEvent(**recorded("while-down", "Appended while the server was down"))])
        second.start()

        expect(entry(page, "while-down").locator("h3")).to_have_text("Appended while the server was down")
        expect(widget).to_have_attribute("data-live", "connected")
        assert page.evaluate("window.__sameDocument") is True
        # The only errors allowed are the browser's own reports of the refused reconnects.
        console.assert_clean(allow=("net::ERR_CONNECTION_REFUSED", "net::ERR_INCOMPLETE_CHUNKED_ENCODING"))
    finally:
        context.close()
        first.stop()
        second.stop()


# -- embedding, widths, keyboard, motion -------------------------------------------------------


def test_the_widget_works_in_an_iframe_on_another_site(desktop, server, host):
    page, console = desktop
    host.article = (
        "<h1>Our coverage</h1>"
        f'<iframe title="Timeline" src="{server.url}/widget/incidents/{PRETTI}" style="width:100%;height:800px;border:0"></iframe>'
    )
    page.goto(f"{host.origin}/article")
    frame = page.frame_locator("iframe")
    expect(frame.locator(".tlw")).to_have_attribute("data-state", "ready")
    expect(frame.locator("li.tlw-entry").first).to_be_visible()
    console.assert_clean()


def test_the_script_mounts_into_an_element_on_another_site(desktop, server, api, host):
    """Any page can load /static/timeline-widget.js; the API answers it through CORS (TIMELINE_CORS_ORIGINS)."""
    page, console = desktop
    host.article = (
        f'<link rel="stylesheet" href="{server.url}/static/timeline-widget.css">'
        f'<script src="{server.url}/static/timeline-widget.js" defer></script>'
        "<article><h1>Our coverage</h1>"
        f'<div id="tl" data-timeline-widget data-incident="{PRETTI}"></div></article>'
    )
    page.goto(f"{host.origin}/article")
    widget = page.locator("#tl")
    expect(widget).to_have_attribute("data-state", "ready")
    expect(widget.locator("li.tlw-entry")).to_have_count(len(timeline(api)["entries"]))
    expect(widget).to_have_attribute("data-live", "connected")  # EventSource across origins too
    # And explicitly, from a script, into a second element.
    page.evaluate(f"""() => {{
        const el = document.createElement('div'); el.id = 'second'; document.body.append(el);
        TimelineWidget.mount(el, {{api: {server.url!r}, incident: 'dhs-body-camera-policy', live: false}});
    }}""")
    expect(page.locator("#second")).to_have_attribute("data-state", "ready")
    console.assert_clean()


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_readable_at_phone_and_desktop_widths(browser, server, name, viewport):
    context, page, console = new_page(browser, viewport, device_scale_factor=1, color_scheme="light")
    try:
        open_widget(page, server.url)
        expect(page.locator(".tlw")).to_have_attribute("data-live", "connected")
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        headline = page.locator("li.tlw-entry h3").first
        assert headline.evaluate("h => parseFloat(getComputedStyle(h).fontSize)") >= 16
        box = headline.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        if name == "phone":  # one column: the date sits above the headline
            when = page.locator("li.tlw-entry .tlw-when").first.bounding_box()
            assert when["y"] + when["height"] <= box["y"]
        else:  # the date beside the headline, contradictions beside the claim
            when = page.locator("li.tlw-entry .tlw-when").first.bounding_box()
            assert when["x"] + when["width"] <= box["x"]
            claim = entry(page, "noem-weapon-claim")
            main, aside = claim.locator(".tlw-main").bounding_box(), claim.locator(".tlw-disputes").bounding_box()
            assert aside["x"] >= main["x"] + main["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))
        page.screenshot(path=str(ARTIFACTS / f"widget-{name}-full.png"), full_page=True)
        page.evaluate("""() => document.querySelector('li[data-assertion-id="noem-weapon-claim"]')
                                   .scrollIntoView({block: 'start'})""")
        page.screenshot(path=str(ARTIFACTS / f"widget-{name}-dispute.png"))
        console.assert_clean()
    finally:
        context.close()


def test_keyboard_and_screen_reader_basics(desktop, server):
    page, console = desktop
    open_widget(page, server.url)
    # Entries are a list, each headed; the list is named by the incident's heading.
    expect(page.locator("ol.tlw-list")).to_have_attribute(
        "aria-labelledby", page.locator("h2.tlw-title").get_attribute("id")
    )
    assert page.locator("li.tlw-entry").count() == page.locator("li.tlw-entry > article h3").count()
    # Every control has a label.
    unlabelled = page.locator(".tlw input").evaluate_all(
        "inputs => inputs.filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.outerHTML)"
    )
    assert unlabelled == []
    nameless = page.locator(".tlw button").evaluate_all(
        "bs => bs.filter(b => !b.textContent.trim()).map(b => b.outerHTML)"
    )
    assert nameless == []
    # Tab reaches the controls in order, and focus is visible.
    page.locator("body").focus()
    reached = []
    while not reached or reached[-1]["label"] != "Show retracted entries":
        assert len(reached) < 40, reached
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            return {label: el.labels && el.labels[0] ? el.labels[0].textContent : el.textContent.trim(),
                    outline: style.outlineStyle, width: parseFloat(style.outlineWidth)}; }""")
        )
    labels = [r["label"] for r in reached]
    assert "As of" in labels and "Show retracted entries" in labels
    assert all(r["outline"] != "none" and r["width"] >= 2 for r in reached), reached
    console.assert_clean()


def test_reduced_motion_is_respected(browser, server):
    context, page, console = new_page(browser, reduced_motion="reduce")
    try:
        open_widget(page, server.url)
        entry(page, "noem-weapon-claim").locator('.tlw-dispute-link[data-target="videos-show-phone"]').click()
        target = entry(page, "videos-show-phone")
        expect(target).to_have_class(lambda_has("tlw-flash"))
        assert target.locator(".tlw-card").evaluate("c => getComputedStyle(c).animationName") == "none"
        console.assert_clean()
    finally:
        context.close()


def test_the_widget_page_is_a_404_page_for_an_unknown_incident(server, api):
    response = api.get("/widget/incidents/no-such-incident")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    page = api.get(f"/widget/incidents/{PRETTI}")
    assert page.status_code == 200
    assert 'data-incident="alex-pretti-shooting"' in page.text
    assert "<title>Alex Pretti fatally shot" in page.text
    assert "x-frame-options" not in page.headers  # made to be framed
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert api.get("/static/timeline-widget.js").headers["content-type"].startswith("text/javascript")


def lambda_has(name: str):
    """A class-list matcher: the element has this class among others."""
    import re

    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
