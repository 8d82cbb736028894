"""The API reference loads in a browser with no network: Swagger UI and ReDoc come from the service."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from app.api.main import create_app
from app.config import Settings
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, Console
from tests.support.live import ThreadedServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("backend", ["sqlite"]),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (`make test` installs it)"
    ),
]

if os.path.exists(CHROMIUM):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)


@pytest.fixture
def server(engine, database_url):
    with ThreadedServer(create_app(Settings(database_url=database_url, webhook_dispatcher=False), engine=engine)) as s:
        yield s


@pytest.mark.parametrize(("path", "shows"), [("/docs", "POST/v1/articles"), ("/redoc", "Incident timeline service")])
def test_the_reference_loads_without_the_network(server, path, shows):
    elsewhere: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        console = Console(page)

        def only_this_service(route):
            if urlparse(route.request.url).netloc == urlparse(server.url).netloc:
                route.continue_()
            else:  # a CDN, a font: everything the page needs must come from the service
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_service)
        page.goto(server.url + path)
        expect(page.locator("body")).to_contain_text(shows.split("/")[0])
        if path == "/docs":
            expect(page.locator(".opblock-summary-path").first).to_be_visible()
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert "/v1/articles" in paths and "/v1/incidents/{incident_id}/timeline" in paths
        else:
            expect(page.locator("h1").first).to_contain_text("Incident timeline service")
        browser.close()
    # ReDoc's footer badge links an image on Redocly's CDN; the page works without it.
    needed = [url for url in elsewhere if not url.startswith("https://cdn.redoc.ly/redoc/logo-mini")]
    assert needed == [], f"the page reached beyond the service: {needed}"
    console.assert_clean(allow=("net::ERR_FAILED",))
