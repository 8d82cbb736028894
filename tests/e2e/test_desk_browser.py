"""The editor's desk (/desk) in real headless Chromium against a real server: a key entered once,
corpus reports pasted, their proposals accepted, edited and rejected, the record's own tools, the
live widget beside the work, refusals in words, keyboard use, phone and desktop widths.

The page is used as a person uses it: by labels and roles (get_by_label, get_by_role; the widget's
frame by its title), never by test ids or CSS selectors. The API is read directly only to check
what the page did. Screenshots land in test-artifacts/desk-*.png (docs/desk-*.png are copies).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.api.main import create_app
from app.config import Settings
from app.importing import import_batches, read_ndjson
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SAMPLES, Console
from tests.support.live import ThreadedServer

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
ARTIFACTS = REPO / "test-artifacts"
FOX9 = ("FOX 9", "004_200eef025fd57ead.txt")
SKY = ("Sky News", "000_09a375e0120fe4a1.txt")
PRETTI = "alex-pretti-shooting"
PRETTI_TITLE = "Shooting of Alex Pretti"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CBP_TO_CONGRESS = "informed Congressional leaders"  # a quote that holds FOX 9's "two agents had fired shots"
KEYBOARD_HEADLINE = "Every officer in Minneapolis gets its body camera"
EDITED_HEADLINE = "Two agents fire at Alex Pretti at 26th Street and Nicollet Avenue"

pytestmark = [
    pytest.mark.e2e,
    # The browser runs against SQLite only; the API under it is tested on both backends elsewhere.
    pytest.mark.parametrize("backend", ["sqlite"]),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make test` installs it)"
    ),
    pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus of reports is not at ../shared/corpus"),
]

if os.path.exists(CHROMIUM):
    from playwright.sync_api import FrameLocator, Locator, Page, expect, sync_playwright

    expect.set_options(timeout=15_000)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def secret(keys) -> str:
    return keys.create("desk-editor", frozenset({"write"}))[1]


@pytest.fixture
def server(engine, database_url) -> Iterator[ThreadedServer]:
    settings = Settings(database_url=database_url, webhook_dispatcher=False)
    with ThreadedServer(create_app(settings, engine=engine)) as server:
        yield server


@pytest.fixture
def samples(engine) -> None:
    with SAMPLES.open("rb") as stream:
        import_batches(engine, read_ndjson(stream))


@pytest.fixture
def api(server, keys) -> Iterator[httpx.Client]:
    """Another writer, behind the page's back, and the reads that check what the page did."""
    other = keys.create("newsdesk", frozenset({"write"}))[1]
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {other}"}, timeout=10) as client:
        yield client


def new_page(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, device_scale_factor=1, color_scheme="light")
    page = context.new_page()
    return context, page, Console(page)


@pytest.fixture
def desktop(browser, server):
    # Depends on the server so that it closes first: the widget in the page holds its event
    # stream, and uvicorn waits for open responses before it stops.
    context, page, console = new_page(browser)
    yield page, console
    context.close()


# -- using the desk as a person does -----------------------------------------------------------


def region(page: "Page", name: str) -> "Locator":
    return page.get_by_role("region", name=name, exact=True)


def open_desk(page: "Page", url: str) -> None:
    page.goto(f"{url}/desk")
    expect(page.get_by_role("heading", name="Editor's desk")).to_be_visible()


def use_key(page: "Page", secret: str) -> None:
    page.get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Use key").click()
    expect(page.get_by_role("status").filter(has_text="A key is in use")).to_be_visible()


def choose_incident(page: "Page", incident_id: str) -> None:
    page.get_by_label("Incident", exact=True).select_option(incident_id)
    expect(region(page, "The record").get_by_role("status")).to_contain_text("assertions")


def add_report(page: "Page", outlet: str, file: str, published: str = "2026-02-02") -> None:
    form = region(page, "Add a report")
    form.get_by_label("Outlet").fill(outlet)
    form.get_by_label("URL", exact=True).fill(f"https://reports.example/{file}")
    form.get_by_label("Published").fill(published)
    form.get_by_label("Report text").fill((CORPUS / file).read_text())
    form.get_by_role("button", name="Find assertions").click()


def cards(page: "Page") -> "Locator":
    return region(page, "What it states").get_by_role("article")


def card(page: "Page", quote: str, unless: str | None = None) -> "Locator":
    """A proposal's card, found by words of the report it quotes (and not others, where one
    quote holds another)."""
    found = cards(page).filter(has_text=quote)
    if unless:
        found = found.filter(has_not_text=unless)
    expect(found).to_have_count(1)
    return found


def accept(card: "Locator") -> None:
    card.get_by_role("button", name="Accept", exact=False).first.click()
    expect(card.get_by_text("Accepted", exact=True)).to_be_visible()


def widget(page: "Page", title: str = PRETTI_TITLE) -> "FrameLocator":
    return page.get_by_title(f"Timeline of {title} (live)").content_frame


def widget_entry(frame: "FrameLocator", headline: str) -> "Locator":
    return frame.get_by_role("listitem").filter(has=frame.get_by_role("heading", name=headline)).first


def search_record(page: "Page", words: str) -> "Locator":
    """The one entry of the record the search finds."""
    record = region(page, "The record")
    record.get_by_label("Search assertions").fill(words)
    found = record.get_by_role("article")
    expect(found).to_have_count(1)
    return found


def timeline(api: httpx.Client, incident: str = PRETTI) -> dict:
    response = api.get(f"/v1/incidents/{incident}/timeline", params={"include_retracted": "true"})
    assert response.status_code == 200, response.text
    return response.json()


def quoted(entries: list[dict], words: str) -> dict:
    """The entry one of whose sources quotes these words."""
    found = [e for e in entries if any(words in (s.get("quote") or "") for s in e["sources"])]
    assert len(found) == 1, [e["headline"] for e in found]
    return found[0]


# -- the way in --------------------------------------------------------------------------------


def test_two_reports_become_the_record_in_the_live_widget(desktop, server, api, secret):
    page, console = desktop
    open_desk(page, server.url)
    use_key(page, secret)

    # A new incident, opened from the page; the widget beside the work shows it at once.
    incident = region(page, "The incident")
    incident.get_by_role("button", name="Open a new incident").click()
    incident.get_by_label("Title").fill(PRETTI_TITLE)
    expect(incident.get_by_label("Incident id")).to_have_value("shooting-of-alex-pretti")
    incident.get_by_label("Incident id").fill(PRETTI)
    incident.get_by_label("Summary").fill("Alex Pretti, a 37-year-old ICU nurse, was shot by federal officers.")
    incident.get_by_label("Location").fill("Minneapolis, Minnesota")
    incident.get_by_role("button", name="Open incident").click()
    expect(page.get_by_label("Incident", exact=True)).to_have_value(PRETTI)
    frame = widget(page)
    expect(frame.get_by_role("heading", name=PRETTI_TITLE).first).to_be_visible()
    page.get_by_title(f"Timeline of {PRETTI_TITLE} (live)").evaluate(
        "frame => { frame.contentWindow.sameDocument = true; }"
    )

    # FOX 9's report: every proposal highlighted in place, each with its card.
    add_report(page, *FOX9)
    expect(region(page, "Proposals")).to_be_visible()
    article = api.get("/v1/articles", params={"outlet": "FOX 9"}).json()["articles"][0]
    proposals = api.get(f"/v1/articles/{article['id']}").json()["proposals"]
    expect(cards(page)).to_have_count(len(proposals))
    expect(region(page, "The report").get_by_role("mark")).to_have_count(len(proposals))
    expect(region(page, "The report")).to_contain_text("Saturday, Jan. 24")

    shot = card(page, "two agents had fired shots during the confrontation", unless=CBP_TO_CONGRESS)
    # The resolved date: the phrase, the EDTF, the human display; kind, speaker, action.
    facts = shot.get_by_role("definition")
    expect(facts.nth(0)).to_have_text(re.compile(r"“on Saturday, Jan\. 24” → 2026-01-24 · Jan 24, 2026"))
    expect(facts.nth(1)).to_have_text("shooting")
    expect(shot).to_contain_text("Record a new assertion")

    # Edit one, then accept it: the headline an editor would write.
    shot.get_by_role("button", name="Edit").click()
    shot.get_by_label("Headline").fill(EDITED_HEADLINE)
    shot.get_by_role("button", name="Accept edited").click()
    expect(shot.get_by_text("Accepted", exact=True)).to_be_visible()
    expect(shot.get_by_role("list", name="What was appended")).to_contain_text(
        f"AssertionRecorded recorded “{EDITED_HEADLINE}”"
    )

    # Reject one, with the reason kept.
    renee = card(page, "not clear if the shooting of Renee Good was captured")
    renee.get_by_role("button", name="Reject").click()
    renee.get_by_label("Reason").fill("About Renee Good's shooting, not this incident")
    renee.get_by_role("button", name="Reject with this reason").click()
    expect(renee).to_contain_text("Rejected by desk-editor: About Renee Good's shooting, not this incident")

    # Accept some one by one, then all the untouched ones at once.
    accept(card(page, "Officials have said that several officers", unless="Dispute a recorded assertion"))
    accept(card(page, "citing government records, ProPublica identified"))
    region(page, "Proposals").get_by_role("button", name="Accept all").click()
    expect(region(page, "Proposals").get_by_role("status")).to_contain_text(
        f"{len(proposals)} proposals: {len(proposals) - 1} accepted, 1 rejected, 0 to decide"
    )
    expect(region(page, "Proposals").get_by_role("alert")).to_have_count(0)

    # The widget beside the work shows the new entries without a reload.
    expect(widget_entry(frame, EDITED_HEADLINE)).to_be_visible()
    fox = timeline(api)["entries"]
    assert len(fox) == len(proposals) - 1
    for entry in fox[:3]:
        expect(widget_entry(frame, entry["headline"])).to_be_visible()

    # Sky News's report: its corroborations attach to FOX 9's assertions, shown side by side.
    add_report(page, *SKY)
    expect(cards(page).first).to_contain_text("Officers tasked with carrying out")
    corroborations = cards(page).filter(has_text="Corroborate a recorded assertion")
    assert corroborations.count() >= 2
    killed = card(page, "Alex Pretti, a 37-year-old ICU nurse, was killed")
    expect(killed).to_contain_text("Corroborate a recorded assertion")
    expect(killed.get_by_role("region", name="The record holds")).to_contain_text(EDITED_HEADLINE)
    expect(killed.get_by_role("region", name="This report says")).to_contain_text("ICU nurse")
    for index in range(corroborations.count()):
        accept(corroborations.nth(index))
        expect(corroborations.nth(index).get_by_role("list", name="What was appended")).to_contain_text(
            "SourceAttached"
        )
    claim = card(page, "Ms Noem claimed he “came with a weapon")
    accept(claim)

    after = timeline(api)["entries"]
    shooting = next(e for e in after if e["headline"] == EDITED_HEADLINE)
    assert {s["outlet"] for s in shooting["sources"]} == {"FOX 9", "Sky News"}
    attached = [e for e in after if {"FOX 9", "Sky News"} <= {s["outlet"] for s in e["sources"]}]
    assert len(attached) >= 2, "corroborations attach to the first report's assertions, no copies"
    assert len(after) == len(fox) + 1  # only the Noem claim is new

    # The record's own tools: a dispute and a retraction made from the page show in the widget.
    weapon = quoted(after, "came with a weapon")
    misfired = quoted(after, "may have misfired the gun")
    entry = search_record(page, "came with a weapon")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Dispute with").click()
    entry.get_by_label("Disputed by").select_option(misfired["assertion_id"])
    entry.get_by_label("Note").fill("FOX 9: the New York Post reports he had been disarmed")
    entry.get_by_role("button", name="Record the dispute").click()
    expect(region(page, "The record").get_by_role("status")).to_contain_text("is disputed")
    expect(search_record(page, "came with a weapon")).to_contain_text("Disputed by")
    expect(widget_entry(frame, weapon["headline"])).to_contain_text(re.compile("disputed", re.I))

    cnn = quoted(after, "as many as 30 body cameras")
    entry = search_record(page, "as many as 30 body cameras")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Retract").click()
    entry.get_by_label("Reason").fill("CNN's own report is the source to cite, not FOX 9's summary of it")
    entry.get_by_role("button", name="Retract").last.click()
    expect(region(page, "The record").get_by_role("status")).to_contain_text("Retracted “")
    expect(search_record(page, "as many as 30 body cameras")).to_contain_text("Retracted: CNN's own report")
    expect(widget_entry(frame, cnn["headline"])).to_contain_text(re.compile("retracted", re.I))

    final = {e["assertion_id"]: e for e in timeline(api)["entries"]}
    assert final[weapon["assertion_id"]]["disputed_by"] == [misfired["assertion_id"]]
    assert final[cnn["assertion_id"]]["status"] == "retracted"
    assert page.get_by_title(f"Timeline of {PRETTI_TITLE} (live)").evaluate(
        "frame => frame.contentWindow.sameDocument === true"
    ), "the widget was never reloaded"

    region(page, "The record").get_by_label("Search assertions").fill("")
    ARTIFACTS.mkdir(exist_ok=True)
    region(page, "Proposals").evaluate("section => section.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "desk-desktop.png"))
    page.screenshot(path=str(ARTIFACTS / "desk-desktop-full.png"), full_page=True)
    console.assert_clean()


def test_the_desk_fits_a_phone(browser, server, api, secret):
    """At 390 px: one column, nothing wider than the screen; a report posted again shows its
    proposals as they were decided."""
    api.post("/v1/incidents", json={"id": PRETTI, "title": PRETTI_TITLE}).raise_for_status()
    context, page, console = new_page(browser, PHONE)
    try:
        open_desk(page, server.url)
        use_key(page, secret)
        choose_incident(page, PRETTI)
        add_report(page, *FOX9)
        first = cards(page).first
        accept(first)
        again = new_page(browser, PHONE)
        try:
            _, other, other_console = again
            open_desk(other, server.url)
            use_key(other, secret)
            choose_incident(other, PRETTI)
            add_report(other, *FOX9)
            expect(region(other, "Add a report").get_by_role("status")).to_contain_text("received before")
            expect(region(other, "Proposals")).to_contain_text(re.compile(r"proposals: 1 accepted, 0 rejected"))
            other_console.assert_clean()
        finally:
            again[0].close()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        report, stated = region(page, "The report").bounding_box(), region(page, "What it states").bounding_box()
        assert report and stated and stated["y"] >= report["y"] + report["height"], "the cards come below the report"
        widget_box = page.get_by_title(f"Timeline of {PRETTI_TITLE} (live)").bounding_box()
        assert widget_box and widget_box["x"] >= 0 and widget_box["x"] + widget_box["width"] <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        region(page, "Proposals").evaluate("section => section.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(ARTIFACTS / "desk-phone.png"))
        console.assert_clean()
    finally:
        context.close()


# -- refusals, in words ------------------------------------------------------------------------


def test_a_bad_key_a_stale_version_and_an_invalid_date_each_say_what_is_wrong(desktop, server, api, secret):
    page, console = desktop
    api.post("/v1/incidents", json={"id": PRETTI, "title": PRETTI_TITLE}).raise_for_status()
    open_desk(page, server.url)

    # A bad key is refused at once, with the API's reason; nothing is kept.
    page.get_by_label("API key").fill("tl_not-a-real-key")
    page.get_by_role("button", name="Use key").click()
    key_form = page.get_by_role("form", name="Your key for this tab")
    expect(key_form.get_by_role("alert")).to_contain_text("this API key is unknown or has been revoked")
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.includes('key'))") == []
    use_key(page, secret)
    expect(key_form.get_by_role("alert")).to_have_count(0)
    # Kept for the tab only: in sessionStorage, never in the URL or a cookie.
    assert page.evaluate("sessionStorage.getItem('timeline-desk-key')") == secret
    assert secret not in page.url and page.context.cookies() == []
    choose_incident(page, PRETTI)

    # An invalid publication date: the API's detail, the field marked.
    add_report(page, *FOX9, published="2026-02-31")
    report = region(page, "Add a report")
    expect(report.get_by_role("alert")).to_contain_text("'2026-02-31' is not a calendar date")
    expect(report.get_by_label("Published")).to_have_attribute("aria-invalid", "true")
    report.get_by_label("Published").fill("2026-02-02")
    report.get_by_role("button", name="Find assertions").click()
    expect(report.get_by_role("alert")).to_have_count(0)

    # An invalid date in an edit: refused with the reason, the edit kept for correcting.
    shot = card(page, "two agents had fired shots during the confrontation", unless=CBP_TO_CONGRESS)
    shot.get_by_role("button", name="Edit").click()
    shot.get_by_label("Date (EDTF)").fill("2026-13-45")
    shot.get_by_role("button", name="Accept edited").click()
    expect(shot.get_by_role("alert")).to_contain_text("'2026-13-45' is not an EDTF date: month 13 does not exist")
    expect(shot.get_by_label("Date (EDTF)")).to_have_attribute("aria-invalid", "true")
    expect(shot.get_by_label("Date (EDTF)")).to_be_focused()
    shot.get_by_label("Date (EDTF)").fill("2026-01-24")
    shot.get_by_role("button", name="Accept edited").click()
    expect(shot.get_by_text("Accepted", exact=True)).to_be_visible()

    # A stale version: someone else appends behind the page's back; the accept is refused,
    # explained (with what was appended), and retried against the newer record.
    current = timeline(api)["version"]
    behind = api.post(
        f"/v1/incidents/{PRETTI}/events",
        json={"events": [{"type": "IncidentRevised", "data": {"summary": "Revised by another editor"}}]},
    )
    assert behind.status_code == 201, behind.text
    tweet = card(page, "In a tweet Monday afternoon")
    tweet.get_by_role("button", name=re.compile("^Accept")).first.click()
    conflict = tweet.get_by_role("alert")
    expect(conflict).to_contain_text(f"is at version {current + 1}, but this page last read version {current}")
    expect(conflict.get_by_role("listitem")).to_contain_text("IncidentRevised")
    expect(conflict.get_by_role("listitem")).to_contain_text("by newsdesk")
    assert timeline(api)["version"] == current + 1, "nothing was written"
    conflict.get_by_role("button", name=f"Retry at version {current + 1}").click()
    expect(tweet.get_by_text("Accepted", exact=True)).to_be_visible()
    expect(tweet.get_by_role("alert")).to_have_count(0)
    assert timeline(api)["version"] == current + 2

    # The same for a record tool: stated against the record shown, refused when it moved on.
    api.post(
        f"/v1/incidents/{PRETTI}/events",
        json={"events": [{"type": "IncidentRevised", "data": {"title": PRETTI_TITLE}}]},
    ).raise_for_status()
    entry = search_record(page, "In a tweet Monday afternoon")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Rank").click()
    entry.get_by_label("Rank", exact=True).select_option("preferred")
    entry.get_by_role("button", name="Set rank").click()
    expect(entry.get_by_role("alert")).to_contain_text("Not appended: the record changed")
    entry.get_by_role("button", name=re.compile("Retry at version")).click()
    expect(region(page, "The record").get_by_role("status")).to_contain_text("Ranked")
    expect(search_record(page, "In a tweet Monday afternoon")).to_contain_text("preferred")

    # No key at all: the write is refused with the reason, not silently dropped.
    page.get_by_role("button", name="Forget key").click()
    entry = search_record(page, "In a tweet Monday afternoon")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Retract").click()
    entry.get_by_label("Reason").fill("testing")
    entry.get_by_role("button", name="Retract").last.click()
    expect(entry.get_by_role("alert")).to_contain_text("this request needs an API key with the 'write' scope")

    console.assert_clean(allow=("status of 401", "status of 409", "status of 422"))


# -- the record's tools ------------------------------------------------------------------------


def test_the_records_tools_work_on_any_entry(samples, desktop, server, api, secret):
    page, console = desktop
    open_desk(page, server.url)
    use_key(page, secret)
    choose_incident(page, PRETTI)
    title = timeline(api)["incident"]["title"]
    frame = widget(page, title)
    record = region(page, "The record")
    before = {e["assertion_id"]: e for e in timeline(api)["entries"]}

    # Search by text, client-side: headline, text, speaker, quotes, outlets.
    record.get_by_label("Search assertions").fill("nicollet")
    expect(record.get_by_role("status")).to_contain_text(f"of {len(before)} assertions match")
    shot = before["pretti-shot"]

    entry = search_record(page, "pretti-shot")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Attach a source").click()
    entry.get_by_label("Outlet").fill("Star Tribune")
    entry.get_by_label("URL").fill("https://www.startribune.com/pretti")
    entry.get_by_label("Published").fill("2026-02-03")
    entry.get_by_label("Quote").fill("Pretti was shot at 26th Street and Nicollet Avenue on Jan. 24")
    entry.get_by_role("button", name="Attach source").click()
    expect(record.get_by_role("status")).to_contain_text("Attached Star Tribune")
    expect(widget_entry(frame, shot["headline"])).to_contain_text("Star Tribune")

    entry = search_record(page, "pretti-shot")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Revise").click()
    entry.get_by_label("Field").select_option("headline")
    expect(entry.get_by_label("New value")).to_have_value(shot["headline"])
    entry.get_by_label("New value").fill(
        "Federal officers shoot and kill Alex Pretti at 26th Street and Nicollet Avenue"
    )
    entry.get_by_label("Reason").fill("Names who fired, as the reports do")
    entry.get_by_role("button", name="Revise").last.click()
    expect(record.get_by_role("status")).to_contain_text("Revised Headline")
    expect(widget_entry(frame, "Federal officers shoot and kill Alex Pretti")).to_be_visible()

    entry = search_record(page, "pretti-shot")
    entry.get_by_role("button", name="Tools").click()
    entry.get_by_role("button", name="Rank").click()
    entry.get_by_label("Rank", exact=True).select_option("deprecated")
    entry.get_by_label("Reason (optional)").fill("testing the tool")
    entry.get_by_role("button", name="Set rank").click()
    expect(record.get_by_role("status")).to_contain_text("Ranked")
    expect(search_record(page, "pretti-shot")).to_contain_text("deprecated")

    after = {e["assertion_id"]: e for e in timeline(api)["entries"]}
    changed = after["pretti-shot"]
    assert "Star Tribune" in [s["outlet"] for s in changed["sources"]]
    assert changed["headline"].startswith("Federal officers shoot and kill")
    assert changed["rank"] == "deprecated" and changed["revisions"]["count"] == shot["revisions"]["count"] + 1

    # Link incidents: the incident's own tool.
    incident = region(page, "The incident")
    incident.get_by_role("button", name="Link incidents").click()
    incident.get_by_label("Relation").select_option("related")
    incident.get_by_label("Linked incident").select_option("dhs-body-camera-policy")
    incident.get_by_role("button", name="Link", exact=True).click()
    expect(incident.get_by_role("status")).to_contain_text("Linked: is related to")
    links = api.get(f"/v1/incidents/{PRETTI}").json()["links"]
    assert {"incident_id": "dhs-body-camera-policy", "relation": "related"} in [
        {"incident_id": link["incident_id"], "relation": link["relation"]} for link in links
    ]
    console.assert_clean()


# -- keyboard alone ----------------------------------------------------------------------------


def tab_to(page: "Page", target: "Locator", limit: int = 120) -> None:
    """Press Tab until the target has the focus; every stop on the way shows where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
        outline = page.evaluate(
            """() => { const el = document.activeElement, style = getComputedStyle(el);
                       return el === document.body || el.tagName === 'IFRAME'
                         || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2); }"""
        )
        assert outline, page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"Tab never reached {target}")


def test_the_desk_by_keyboard_alone(desktop, server, api, secret):
    page, console = desktop
    api.post("/v1/incidents", json={"id": PRETTI, "title": PRETTI_TITLE}).raise_for_status()
    open_desk(page, server.url)
    frame = widget(page, PRETTI_TITLE)

    tab_to(page, page.get_by_label("API key"))
    page.keyboard.type(secret)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="A key is in use")).to_be_visible()

    picker = page.get_by_label("Incident", exact=True)
    tab_to(page, picker)
    page.keyboard.press("ArrowDown")
    expect(picker).to_have_value(PRETTI)

    form = region(page, "Add a report")
    tab_to(page, form.get_by_label("Outlet"))
    page.keyboard.type("FOX 9")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Published")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("2026-02-02")
    page.keyboard.press("Tab")
    expect(form.get_by_label("URL", exact=True)).to_be_focused()
    page.keyboard.type("https://reports.example/fox9")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Report text")).to_be_focused()
    page.keyboard.insert_text((CORPUS / FOX9[1]).read_text())
    tab_to(page, form.get_by_role("button", name="Find assertions"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Proposals")).to_be_focused()

    # Accept the first card, reject the second, edit the third.
    first, second, third = cards(page).nth(0), cards(page).nth(1), cards(page).nth(2)
    tab_to(page, first.get_by_role("button", name="Accept"))
    page.keyboard.press("Enter")
    expect(first.get_by_text("Accepted", exact=True)).to_be_visible()
    expect(first).to_be_focused()

    tab_to(page, second.get_by_role("button", name="Reject"))
    page.keyboard.press("Enter")
    expect(second.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("Not a dated fact")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(second).to_contain_text("Rejected by desk-editor: Not a dated fact")

    tab_to(page, third.get_by_role("button", name="Edit"))
    page.keyboard.press("Enter")
    expect(third.get_by_label("Headline")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(KEYBOARD_HEADLINE)
    tab_to(page, third.get_by_role("button", name="Accept edited"))
    page.keyboard.press("Enter")
    expect(third.get_by_text("Accepted", exact=True)).to_be_visible()
    expect(widget_entry(frame, KEYBOARD_HEADLINE)).to_be_visible()

    # A record tool by keyboard: search, open the tools, retract with a reason.
    record = region(page, "The record")
    tab_to(page, record.get_by_label("Search assertions"))
    page.keyboard.type("gets its body camera")
    entry = record.get_by_role("article")
    expect(entry).to_have_count(1)
    tab_to(page, entry.get_by_role("button", name="Tools"))
    page.keyboard.press("Enter")
    tab_to(page, entry.get_by_role("button", name="Retract"))
    page.keyboard.press("Enter")
    expect(entry.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("Edited in the wrong words")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(record.get_by_role("status")).to_contain_text("Retracted")
    expect(record.get_by_role("article")).to_be_focused()
    retracted = [e for e in timeline(api)["entries"] if e["status"] == "retracted"]
    assert [e["headline"] for e in retracted] == [KEYBOARD_HEADLINE]
    console.assert_clean()
