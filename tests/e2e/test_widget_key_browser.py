"""The widget with private reads (TIMELINE_PUBLIC_READ=false), in real headless Chromium: the page
asks for an API key, keeps it for the tab only, sends it as a Bearer header (live updates too,
through fetch()), and asks again when the key is refused."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from app.api.main import create_app
from app.config import Settings
from app.importing import import_batches, read_ndjson
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SAMPLES, Console
from tests.support.live import ThreadedServer

PRETTI = "alex-pretti-shooting"

pytestmark = [
    pytest.mark.e2e,
    # The browser runs against SQLite only; the API under it is tested on both backends elsewhere.
    pytest.mark.parametrize("backend", ["sqlite"]),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make test` installs it)"
    ),
]

if os.path.exists(CHROMIUM):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(engine, database_url) -> Iterator[ThreadedServer]:
    with SAMPLES.open("rb") as stream:
        import_batches(engine, read_ndjson(stream))
    settings = Settings(database_url=database_url, public_read=False, webhook_dispatcher=False)
    with ThreadedServer(create_app(settings, engine=engine)) as server:
        yield server


@pytest.fixture
def tab(browser, server):
    # Depends on the server so that it closes first: an open page holds its event stream.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[tuple[str, str | None]] = []
    page.on("request", lambda request: requests.append((request.url, request.headers.get("authorization"))))
    yield context, page, Console(page), requests
    context.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_the_widget_asks_for_a_key_and_then_shows_the_timeline_live(tab, server, keys):
    context, page, console, requests = tab
    key = keys.create("analyst", frozenset({"read"}))[1]
    writer = bearer(keys.create("newsdesk", frozenset({"write"}))[1])
    with httpx.Client(base_url=server.url, timeout=10) as api:
        timeline = api.get(
            f"/v1/incidents/{PRETTI}/timeline", params={"include_retracted": "true"}, headers=bearer(key)
        )
        body = timeline.json()

        page.goto(f"{server.url}/widget/incidents/{PRETTI}")
        widget = page.locator(".tlw")
        expect(widget).to_have_attribute("data-state", "key-needed")
        field = page.get_by_label("API key")
        expect(field).to_be_visible()
        assert body["incident"]["title"] not in page.content()

        # A wrong key is refused, and the question asked again.
        field.fill("tl_not_a_key")
        page.get_by_role("button", name="Show timeline").click()
        expect(page.get_by_role("alert")).to_contain_text("That key was not accepted: HTTP 401")
        expect(widget).to_have_attribute("data-state", "key-needed")
        assert page.evaluate("Object.keys(sessionStorage).length") == 0

        typed_at = len(requests)
        page.get_by_label("API key").fill(key)
        page.get_by_label("API key").press("Enter")
        expect(widget).to_have_attribute("data-state", "ready")
        expect(page.get_by_role("heading", level=2)).to_have_text(body["incident"]["title"])
        expect(page.locator("ol.tlw-list > li.tlw-entry")).to_have_count(len(body["entries"]))
        expect(widget).to_have_attribute("data-live", "connected")

        # Live updates arrive through the fetch()-read stream, which carries the key.
        recorded = {
            "type": "AssertionRecorded",
            "data": {
                "assertion_id": "chief-statement",
                "kind": "official_statement",
                "occurred": "2026-01-25",
                "headline": "Police chief asks for calm",
                "sources": [{"outlet": "FOX 9"}],
            },
        }
        appended = api.post(f"/v1/incidents/{PRETTI}/events", json={"events": [recorded]}, headers=writer)
        assert appended.status_code == 201, appended.text
        new_entry = page.locator('li.tlw-entry[data-assertion-id="chief-statement"] h3')
        expect(new_entry).to_have_text("Police chief asks for calm")
        expect(widget).to_have_attribute("data-version", str(appended.json()["version"]))

    # The key: in this tab's sessionStorage, never in a URL or a cookie; on every API request.
    assert page.evaluate("Object.values(sessionStorage)") == [key]
    assert page.evaluate("document.cookie") == "" and context.cookies() == []
    assert all(key not in url for url, _ in requests)
    api_requests = [(url, auth) for url, auth in requests[typed_at:] if "/v1/" in url]
    assert any(url.split("?")[0].endswith("/stream") for url, _ in api_requests)
    assert api_requests and all(auth == f"Bearer {key}" for _, auth in api_requests), api_requests

    # A reload in the same tab does not ask again.
    page.reload()
    expect(page.locator(".tlw")).to_have_attribute("data-state", "ready")
    # The only console errors: the browser's report of the wrong key's 401s.
    console.assert_clean(allow=("status of 401",))


def test_a_key_without_read_is_refused_and_forgotten(tab, server, keys):
    _, page, console, _ = tab
    write_only = keys.create("newsdesk", frozenset({"write"}))[1]
    page.goto(f"{server.url}/widget/incidents/no-such-incident")
    page.get_by_label("API key").fill(write_only)
    page.get_by_role("button", name="Show timeline").click()
    expect(page.get_by_role("alert")).to_contain_text("HTTP 403: this API key lacks the 'read' scope")
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage).length") == 0
    console.assert_clean(allow=("status of 403",))
