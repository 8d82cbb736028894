"""The embeddable widget in real headless Chromium against a real server holding the sample incidents:
vague dates as ranges, disputes from both sides (collapsed to a line each, opened on demand),
retractions, revisions with their earlier values, the incident's place and links, the overview
(labelled items in packed lanes, zoom and pan by buttons and keys, far outliers behind an axis
break), replay by either clock (as recorded, as reported), kind filters, live updates (also across a
dropped connection), keyboard use, no horizontal overflow at 360 px, page heights at phone and
desktop widths held to limits, no console errors.

Screenshots land in test-artifacts/ (docs/widget-desktop.png and docs/widget-phone.png are copies of
widget-desktop.png and widget-phone.png)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import date
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
NARROW = {"width": 360, "height": 800}
# The Pretti sample with everything collapsed, in screens of the viewport's height (issue 11). Measured
# when these limits were set: 2,050 px at 1280x900 (2.28 screens) and 3,285 px at 390x844 (3.89).
SCREENS = {"desktop": 2.5, "phone": 4.0}

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


def toggle(item, name: str):
    """The button of an entry that opens (or closes) one of its collapsed parts, by its accessible name."""
    return item.get_by_role("button", name=name)


def open_details(item) -> None:
    """Open an entry by its headline (the heading's button), as a reader would."""
    button = item.locator("h3").get_by_role("button")
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    expect(button).to_have_attribute("aria-expanded", "true")


def x_of_day(page: "Page", day: str) -> float:
    """Where a day starts in the overview's lanes, in CSS pixels from their left edge, at the current zoom."""
    return page.evaluate("day => document.querySelector('[data-timeline-widget]').timelineWidget.xOfDay(day)", day)


def view_days(page: "Page") -> int:
    return int(page.locator(".tlw-overview").get_attribute("data-view-days"))


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
    # Both on Jan 24: the day's mark within the first of the bar's ten days.
    assert bar["x"] <= day["x"] + day["width"] / 2 <= bar["x"] + bar["width"] / 10 + 0.5

    # In the overview the eight entries of Jan 24 – Feb 2 are one thin group; ungrouped, each is a
    # thin bar from its earliest to its latest day, thinner than a known day's mark.
    group = page.locator('.tlw-axis .tlw-item-group[data-group="2026-01-24/2026-02-02"]')
    expect(group.locator(".tlw-item-label")).to_have_text(re.compile(r"^8 entries"))
    page.get_by_role("button", name="Group same ranges").click()
    expect(group).to_have_count(0)
    mark = page.locator('.tlw-axis .tlw-item[data-assertion-id="videos-show-phone"] .tlw-mark-range').bounding_box()
    dot = page.locator('.tlw-axis .tlw-item[data-assertion-id="pretti-shot"] .tlw-mark-day').bounding_box()
    lanes = page.locator(".tlw-axis-lanes").bounding_box()
    assert mark["width"] > 8 * dot["width"]
    assert mark["height"] < dot["height"] / 2  # a vague range is drawn thin
    # Ten days, Jan 24 to the end of Feb 2, on the scale of the axis.
    start, end = x_of_day(page, "2026-01-24"), x_of_day(page, "2026-02-03")
    assert mark["x"] - lanes["x"] == pytest.approx(start, abs=1.5)
    assert mark["width"] == pytest.approx(end - start, abs=1.5)
    assert dot["x"] + dot["width"] / 2 - lanes["x"] == pytest.approx(
        (start + x_of_day(page, "2026-01-25")) / 2, abs=1.5
    )
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
    assert view_days(page) < 60  # the axis still spans the story's weeks, not eight thousand years
    mark = page.locator('.tlw-axis .tlw-item[data-assertion-id="protests-continue"] .tlw-mark-range').bounding_box()
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
    disputing = entries["noem-weapon-claim"]["disputed_by"]
    assert "videos-show-phone" in disputing

    # Collapsed, the disputed claim carries a visible marker that says how many contradict it.
    marker = toggle(claim, f"Disputed by {len(disputing)} entries")
    expect(marker).to_have_class(lambda_has("tlw-badge-disputed"))
    expect(marker).to_have_attribute("aria-expanded", "false")
    expect(claim.locator(".tlw-disputes")).to_be_hidden()
    marker.click()
    expect(claim.locator(".tlw-dispute-by")).to_have_text("⚠Disputed by")
    links = claim.locator(".tlw-dispute-link")
    expect(links).to_have_text([entries[i]["headline"] for i in disputing])
    # The other side names what it contradicts, behind its own marker.
    toggle(video, "Disputes 2 entries").click()
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


def test_collapsed_disputes_expand_to_one_line_per_disputing_entry(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    entries = {e["assertion_id"]: e for e in timeline(api)["entries"]}
    claim = entry(page, "noem-weapon-claim")
    disputing = [entries[i] for i in entries["noem-weapon-claim"]["disputed_by"]]
    assert len(disputing) == 4
    panel = claim.locator(".tlw-disputes")
    collapsed = claim.bounding_box()["height"]
    assert collapsed < 90  # the card is two short lines until a reader asks for more
    expect(panel).to_be_hidden()

    marker = toggle(claim, "Disputed by 4 entries")
    marker.focus()
    page.keyboard.press("Enter")  # by keyboard
    expect(marker).to_have_attribute("aria-expanded", "true")
    expect(panel).to_be_visible()
    lines = panel.locator(".tlw-dispute-line")
    expect(lines).to_have_count(4)
    for line, other in zip(lines.all(), disputing):
        # One line each: headline (a link to it), who says so, when.
        expect(line.locator(".tlw-dispute-link")).to_have_text(other["headline"])
        expect(line.locator(".tlw-dispute-meta")).to_contain_text(other["occurred"]["display"])
        if other["attributed_to"]:
            expect(line.locator(".tlw-dispute-meta")).to_contain_text(other["attributed_to"])
        link, meta = line.locator(".tlw-dispute-link").bounding_box(), line.locator(".tlw-dispute-meta").bounding_box()
        assert meta["y"] < link["y"] + link["height"]  # on the same line as the headline
        # The disputing entry's own text is not repeated here; it is one link away.
        if other["text"]:
            assert other["text"] not in panel.inner_text()
    # The note of a dispute opens on demand.
    why = lines.first.locator(".tlw-dispute-why")
    expect(why.locator(".tlw-dispute-note")).to_be_hidden()
    why.locator("summary").click()
    expect(why.locator(".tlw-dispute-note")).to_be_visible()
    assert claim.bounding_box()["height"] < 400  # not 1,200 px of repeated entries

    # And it closes again; the state survives a re-render (a filter change, a live update).
    page.get_by_label("Show retracted entries").uncheck()
    expect(toggle(claim, "Disputed by 4 entries")).to_have_attribute("aria-expanded", "true")
    toggle(claim, "Disputed by 4 entries").click()
    expect(panel).to_be_hidden()
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
    expect(item.locator(".tlw-sources")).to_be_hidden()  # collapsed: the headline opens the rest
    open_details(item)
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
    toggle(entry(page, disputing), "Disputes 1 entry").click()
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
    toggle(video, "Disputes 2 entries").click()
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
def test_readable_and_short_at_phone_and_desktop_widths(browser, server, name, viewport):
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
        when = page.locator("li.tlw-entry .tlw-when").first.bounding_box()
        if name == "phone":  # one column: the date sits above the headline
            assert when["y"] + when["height"] <= box["y"]
        else:  # the date beside the headline
            assert when["x"] + when["width"] <= box["x"]
        # With everything collapsed (as the page opens), the whole sample story fits in a few screens.
        expect(page.locator('.tlw-entry [aria-expanded="true"]')).to_have_count(0)
        height = page.evaluate("document.documentElement.scrollHeight")
        screens = height / viewport["height"]
        print(f"{name}: the Pretti page is {height} px, {screens:.2f} screens of {viewport['height']} px")
        assert screens <= SCREENS[name], f"{height} px is {screens:.2f} screens, more than {SCREENS[name]}"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))
        page.screenshot(path=str(ARTIFACTS / f"widget-{name}-full.png"), full_page=True)
        claim = entry(page, "noem-weapon-claim")
        toggle(claim, "Disputed by 4 entries").click()
        open_details(entry(page, "pretti-shot"))
        toggle(entry(page, "pretti-shot"), "Revised").click()
        claim.evaluate("li => li.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(ARTIFACTS / f"widget-{name}-dispute.png"))
        console.assert_clean()
    finally:
        context.close()


# Elements whose content is cut off: wider than their box where their overflow is not visible,
# or reaching past the right edge of the screen.
CLIPPED = """width => [...document.querySelectorAll('.tlw *')].filter(el => {
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    if (!box.width || style.visibility === 'hidden' || el.closest('.tlw-sr')) return false;
    if (box.right > width + 0.5 || box.left < -0.5) return true;
    const clips = ['hidden', 'clip'].includes(style.overflowX) && !el.classList.contains('tlw-axis-lanes')
                  && !el.classList.contains('tlw-axis-ticks') && !el.classList.contains('tlw-track')
                  && !el.classList.contains('tlw-clamped');
    return clips && el.scrollWidth > el.clientWidth + 1;
}).map(el => el.className + ': ' + el.textContent.slice(0, 60))"""

# Overview labels and tick labels must lie wholly inside the overview, not under its edges.
OUTSIDE = """() => {
    const lanes = document.querySelector('.tlw-axis-lanes').getBoundingClientRect();
    const ticks = document.querySelector('.tlw-axis-ticks').getBoundingClientRect();
    const out = [];
    for (const el of document.querySelectorAll('.tlw-item-label')) {
        const b = el.getBoundingClientRect();
        if (b.left < lanes.left - 0.5 || b.right > lanes.right + 0.5) out.push('label ' + el.textContent);
    }
    for (const el of document.querySelectorAll('.tlw-tick-label')) {
        const b = el.getBoundingClientRect();
        if (b.left < ticks.left - 0.5 || b.right > ticks.right + 0.5) out.push('tick ' + el.textContent);
    }
    return out; }"""


def test_no_horizontal_overflow_and_no_clipped_text_at_360_px(browser, server, api, writer):
    append(
        api,
        writer,
        PRETTI,
        recorded("pretti-moves", "Pretti's family moves to Minnesota", occurred="1998", kind="other"),
    )
    context, page, console = new_page(browser, NARROW, device_scale_factor=1)
    try:
        open_widget(page, server.url)
        width = NARROW["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(CLIPPED, width) == []
        assert page.evaluate(OUTSIDE) == []
        assert page.locator(".tlw-tick-label").count() >= 3  # the axis is still labelled
        # Zoomed in, and with every part of every entry open, still nothing sideways.
        page.get_by_role("button", name="Zoom in").click()
        assert page.evaluate(OUTSIDE) == []
        closed = page.locator('.tlw-entry [aria-expanded="false"]')
        while closed.count():
            closed.first.click()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(CLIPPED, width) == []
        console.assert_clean()
    finally:
        context.close()


# -- the overview ------------------------------------------------------------------------------


def test_the_overview_labels_every_entry(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    entries = timeline(api)["entries"]
    lanes = page.locator(".tlw-axis-lanes")
    labelled = []
    for e in entries:
        item = lanes.locator(f'.tlw-item[data-assertion-id="{e["assertion_id"]}"]')
        if item.count():
            label = item.locator(".tlw-item-label").inner_text()
            # The headline, shortened at a word if it must be, or else the kind.
            assert (
                e["headline"].startswith(label.removesuffix("…")) or label == e["kind"].replace("_", " ").capitalize()
            )
            labelled.append(e["assertion_id"])
    # The rest share the very same vague range with two or more others, drawn as one labelled group.
    groups = lanes.locator(".tlw-item-group")
    grouped = {
        key: [e for e in entries if f"{e['occurred']['earliest']}/{e['occurred']['latest']}" == key]
        for key in groups.evaluate_all("gs => gs.map(g => g.dataset.group)")
    }
    assert len(labelled) + sum(map(len, grouped.values())) == len(entries)
    for key, members in grouped.items():
        assert len(members) >= 3
        expect(lanes.locator(f'[data-group="{key}"] .tlw-item-label')).to_have_text(f"{len(members)} entries ▸")
    # The eight "Jan 24 – Feb 2" entries take one lane, not eight.
    assert len(grouped["2026-01-24/2026-02-02"]) == 8
    assert int(page.locator(".tlw-overview").get_attribute("data-lanes")) <= 10
    # No two labels overlap.
    boxes = lanes.locator(".tlw-item-label").evaluate_all("ls => ls.map(l => l.getBoundingClientRect().toJSON())")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = (
                a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]
            )
            assert not overlap, (a, b)
    # A group opens on demand, its entries then labelled one by one; clicking an item goes to its entry.
    lanes.locator('[data-group="2026-01-24/2026-02-02"]').click()
    expect(lanes.locator('[data-group="2026-01-24/2026-02-02"]')).to_have_attribute("aria-expanded", "true")
    expect(lanes.locator('.tlw-item[data-assertion-id="videos-show-phone"] .tlw-item-label')).to_have_text(
        re.compile(r"^Videos")
    )
    lanes.locator('.tlw-item[data-assertion-id="doj-civil-rights-investigation"]').click()
    expect(entry(page, "doj-civil-rights-investigation")).to_be_focused()
    assert page.evaluate(OUTSIDE) == []
    console.assert_clean()


def test_zoom_and_pan_change_the_visible_span(desktop, server):
    page, console = desktop
    open_widget(page, server.url)
    overview = page.get_by_role("region", name="Overview")
    span = page.locator(".tlw-ov-span")
    whole = view_days(page)
    expect(span).to_contain_text("Showing Jan 21 – Feb 5, 2026")
    expect(page.get_by_role("button", name="Zoom out")).to_have_attribute("aria-disabled", "true")
    week = x_of_day(page, "2026-01-31") - x_of_day(page, "2026-01-24")

    # Buttons: zoom in, the span halves and a day takes twice the room.
    page.get_by_role("button", name="Zoom in").click()
    assert view_days(page) <= whole / 2 + 1
    assert x_of_day(page, "2026-01-31") - x_of_day(page, "2026-01-24") == pytest.approx(2 * week, rel=0.02)
    expect(span).not_to_contain_text("Jan 21 – Feb 5")
    expect(span).to_contain_text("out of view")
    first = page.locator(".tlw-overview").get_attribute("data-view-from")
    page.get_by_role("button", name="Move later").click()
    assert page.locator(".tlw-overview").get_attribute("data-view-from") > first

    # Keys, on the overview: minus zooms out, plus in, the arrows move, 0 shows everything.
    overview.focus()
    page.keyboard.press("0")
    assert view_days(page) == whole
    page.keyboard.press("+")
    page.keyboard.press("+")
    zoomed = view_days(page)
    assert zoomed <= whole / 4 + 1
    before = page.locator(".tlw-overview").get_attribute("data-view-from")
    page.keyboard.press("ArrowLeft")
    assert page.locator(".tlw-overview").get_attribute("data-view-from") < before
    page.keyboard.press("-")
    assert view_days(page) > zoomed
    expect(overview).to_be_focused()
    page.get_by_role("button", name="Show all").click()
    assert view_days(page) == whole
    # Dragging pans too.
    page.get_by_role("button", name="Zoom in").click()
    before = page.locator(".tlw-overview").get_attribute("data-view-from")
    lanes = page.locator(".tlw-axis-lanes").bounding_box()
    page.mouse.move(lanes["x"] + lanes["width"] / 2, lanes["y"] + lanes["height"] - 4)
    page.mouse.down()
    page.mouse.move(lanes["x"] + lanes["width"] / 2 + 200, lanes["y"] + lanes["height"] - 4, steps=5)
    page.mouse.up()
    assert page.locator(".tlw-overview").get_attribute("data-view-from") < before
    console.assert_clean()


@pytest.mark.parametrize("incident", [PRETTI, "dhs-body-camera-policy"])
def test_a_far_outlier_sits_behind_an_axis_break(desktop, server, api, writer, incident):
    if incident == PRETTI:  # the sample has none: one entry from 1998 in a Jan–Feb 2026 story
        append(
            api,
            writer,
            PRETTI,
            recorded("pretti-moves", "Pretti's family moves to Minnesota", occurred="1998", kind="other"),
        )
        outlier, main = "pretti-moves", ("pretti-shot", "body-camera-footage-not-public")
    else:  # the sample's own: a 2022 executive order beside 2025–2026
        outlier, main = "biden-2022-order", ("congress-approves-170-billion", "noem-announces-minneapolis-body-cameras")
    page, console = desktop
    open_widget(page, server.url, incident)
    lanes = page.locator(".tlw-axis-lanes").bounding_box()
    breaks = page.locator(".tlw-axis-lanes .tlw-break")
    expect(breaks).to_have_count(1)
    cut = breaks.bounding_box()
    far = page.locator(f'.tlw-item[data-assertion-id="{outlier}"] .tlw-mark').bounding_box()
    first = page.locator(f'.tlw-item[data-assertion-id="{main[0]}"] .tlw-mark').bounding_box()
    last = page.locator(f'.tlw-item[data-assertion-id="{main[1]}"] .tlw-mark').bounding_box()
    # The outlier on the left, the break, then the story, which keeps most of the width.
    assert far["x"] + far["width"] <= cut["x"] + 1
    assert cut["x"] + cut["width"] <= first["x"] + 1
    assert last["x"] + last["width"] - first["x"] > 0.5 * lanes["width"]
    assert cut["width"] < 0.06 * lanes["width"]
    expect(page.locator(".tlw-ov-span")).to_contain_text("years folded")
    # The folded years are not part of the visible span.
    days = [e["occurred"] for e in timeline(api, incident)["entries"]]
    whole = date.fromisoformat(max(d["latest"] for d in days)) - date.fromisoformat(min(d["earliest"] for d in days))
    assert view_days(page) < 0.75 * whole.days
    expect(page.locator(".tlw-legend-folded")).to_be_visible()
    assert page.evaluate(OUTSIDE) == []  # every label inside the overview, the outlier's too
    console.assert_clean()


def test_long_vague_ranges_do_not_squeeze_the_story(desktop, server, api):
    """DHS's body-camera story is January–February 2026, beside two entries dated only "2025"."""
    page, console = desktop
    open_widget(page, server.url, "dhs-body-camera-policy")
    years = [e for e in timeline(api, "dhs-body-camera-policy")["entries"] if e["occurred"]["precision"] == "year"]
    assert len(years) == 3  # 2022, and twice 2025
    width = page.locator(".tlw-axis-lanes").bounding_box()["width"]
    january = x_of_day(page, "2026-02-01") - x_of_day(page, "2026-01-01")
    year = x_of_day(page, "2026-01-01") - x_of_day(page, "2025-01-01")
    # Linear, 2025 would take twelve times January's room: the stretch only the vague years cover
    # is drawn compressed (and marked so), and the month the story happened in stays wide.
    assert january > 0.3 * width
    assert year < 1.5 * january
    expect(page.locator(".tlw-axis-ticks .tlw-compressed")).to_have_count(1)
    expect(page.locator(".tlw-legend-squeezed")).to_be_visible()
    # The Pretti story has no such stretch: its scale is linear throughout.
    open_widget(page, server.url)
    expect(page.locator(".tlw-axis-ticks .tlw-compressed")).to_have_count(0)
    expect(page.locator(".tlw-legend-squeezed")).to_be_hidden()
    console.assert_clean()


# -- replay by either clock --------------------------------------------------------------------


def test_replay_by_publication_time_shows_the_story_as_it_was_reported(desktop, server, api, writer):
    # Two old reports, typed in today: recorded last, published first.
    append(
        api,
        writer,
        PRETTI,
        {
            "type": "AssertionRecorded",
            "reported_at": "2026-01-24",
            "data": {
                "assertion_id": "first-report",
                "kind": "shooting",
                "occurred": "2026-01-24",
                "headline": "Man shot by federal agents in south Minneapolis",
                "sources": [
                    {"outlet": "Star Tribune", "url": "https://www.startribune.com/first", "published_at": "2026-01-24"}
                ],
            },
        },
    )
    append(
        api,
        writer,
        PRETTI,
        {
            "type": "AssertionRecorded",
            "reported_at": "2026-01-27T09:00:00Z",
            "data": {
                "assertion_id": "victim-named",
                "kind": "other",
                "occurred": "2026-01-25",
                "headline": "The man killed is named as Alex Pretti, an ICU nurse",
                "sources": [{"outlet": "MPR News", "published_at": "2026-01-27T09:00:00Z"}],
            },
        },
    )
    head = timeline(api)
    by_day = timeline(api, reported_as_of="2026-01-24")
    by_27th = timeline(api, reported_as_of="2026-01-27T09:00:00Z")
    assert [e["assertion_id"] for e in by_day["entries"]] == ["first-report"]
    assert {e["assertion_id"] for e in by_27th["entries"]} == {"first-report", "victim-named"}

    page, console = desktop
    open_widget(page, server.url)
    widget, items = page.locator(".tlw"), page.locator("li.tlw-entry")
    slider = page.get_by_label("As of", exact=True)
    expect(items).to_have_count(len(head["entries"]))
    # As recorded, the first step is the incident opening, and the old reports come last.
    slider.focus()
    page.keyboard.press("Home")
    expect(items).to_have_count(0)

    page.get_by_label("As reported").check()
    expect(widget).to_have_attribute("data-clock", "reported")
    expect(slider).to_have_attribute("max", "3")  # Jan 24, Jan 27 09:00, Feb 2
    expect(items).to_have_count(len(head["entries"]))
    slider.focus()
    page.keyboard.press("Home")
    expect(widget).to_have_attribute("data-reported-as-of", re.compile(r"^2026-01-24T23:59:59"))
    expect(items).to_have_count(1)
    expect(entry(page, "first-report").locator("h3")).to_have_text("Man shot by federal agents in south Minneapolis")
    expect(page.locator(".tlw-moment")).to_contain_text("Reported by Jan 24, 2026")
    expect(page.locator(".tlw-moment")).to_contain_text("Man shot by federal agents")
    expect(page.locator(".tlw-status")).to_contain_text("Showing what had been reported by Jan 24, 2026")
    # The header still names the incident, though its own opening was reported later.
    expect(page.get_by_role("heading", level=2)).to_have_text(head["incident"]["title"])

    page.get_by_role("button", name="Later publication time").click()
    expect(items).to_have_count(2)
    expect(entry(page, "victim-named")).to_have_count(1)
    expect(page.locator(".tlw-moment")).to_contain_text("Reported by Jan 27, 2026")
    page.get_by_role("button", name="Latest").click()
    expect(items).to_have_count(len(head["entries"]))
    expect(page.locator(".tlw-status")).to_contain_text("Live")

    page.get_by_label("As recorded").check()
    expect(widget).to_have_attribute("data-clock", "recorded")
    expect(slider).to_have_attribute("max", str(head["version"]))
    console.assert_clean()


# -- what an entry says on demand --------------------------------------------------------------


def test_revised_says_what_changed_and_the_earlier_value_on_demand(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    shot = next(e for e in timeline(api, history="true")["entries"] if e["assertion_id"] == "pretti-shot")
    before = shot["revisions"]["history"][0]["before"]
    item = entry(page, "pretti-shot")
    button = toggle(item, "Revised: date, headline, text")
    expect(button).to_have_attribute("aria-expanded", "false")
    panel = item.locator(".tlw-revisions")
    expect(panel).to_be_hidden()
    button.click()
    expect(panel).to_be_visible()
    expect(panel.locator('[data-field="occurred"]')).to_have_text("Jan 21 – 31, 2026")  # was 2026-01-21/2026-01-31
    expect(panel.locator('[data-field="headline"]')).to_have_text(before["headline"])
    expect(panel.locator('[data-field="text"]')).to_have_text(before["text"])
    expect(panel).to_contain_text("FOX 9 gives the exact date")  # the reason
    expect(panel.locator("dt")).to_have_text(["Earlier date", "Earlier headline", "Earlier text"])
    # Only the date changed here, and the badge says so.
    expect(toggle(entry(page, "cbp-review-resisted-arrest"), "Revised: date")).to_be_visible()
    console.assert_clean()


def test_the_incident_shows_its_place_and_linked_incidents(desktop, server, api):
    page, console = desktop
    open_widget(page, server.url)
    incident = api.get(f"/v1/incidents/{PRETTI}").json()
    expect(page.locator(".tlw-place")).to_contain_text(incident["location"]["name"])
    titles = {i["id"]: i["title"] for i in api.get("/v1/incidents").json()["incidents"]}
    for link in incident["links"]:
        target = page.get_by_role("link", name=titles[link["incident_id"]])
        expect(target).to_have_attribute("href", f"/widget/incidents/{link['incident_id']}")
    expect(page.locator(".tlw-links")).to_contain_text("Follows:")
    expect(page.locator(".tlw-links")).to_contain_text("Part of:")
    # An entry's own place is among its details.
    item = entry(page, "pretti-shot")
    open_details(item)
    expect(item.locator(".tlw-where")).to_have_text("Where: Minneapolis")
    page.get_by_role("link", name=titles["renee-good-shooting"]).click()
    expect(page.get_by_role("heading", level=2)).to_have_text(titles["renee-good-shooting"])
    console.assert_clean()


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
    # Tab reaches the controls in order, then the overview and its tools, then the first entry's
    # headline, which opens it; and focus is visible on each.
    page.locator("body").focus()
    first = page.locator("li.tlw-entry h3 button").first
    reached = []
    while not reached or reached[-1]["label"] != first.inner_text():
        assert len(reached) < 50, reached
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            const label = el.labels && el.labels[0] ? el.labels[0].textContent
                : el.getAttribute('aria-label') || el.getAttribute('title') || el.textContent.trim();
            return {label: el.classList.contains('tlw-overview') ? 'Overview' : label,
                    outline: style.outlineStyle, width: parseFloat(style.outlineWidth)}; }""")
        )
    labels = [r["label"] for r in reached]
    assert labels.index("As recorded") < labels.index("As of") < labels.index("Show retracted entries")
    assert labels.index("Show retracted entries") < labels.index("Overview") < labels.index("Zoom in")
    assert {"Zoom out", "Move earlier", "Move later", "Show all", "Group same ranges"} <= set(labels)
    assert all(r["outline"] != "none" and r["width"] >= 2 for r in reached), reached
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("aria-expanded", "true")
    expect(page.locator("li.tlw-entry .tlw-details").first).to_be_visible()
    console.assert_clean()


def test_reduced_motion_is_respected(browser, server):
    context, page, console = new_page(browser, reduced_motion="reduce")
    try:
        open_widget(page, server.url)
        toggle(entry(page, "noem-weapon-claim"), "Disputed by 4 entries").click()
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
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
