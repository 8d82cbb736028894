"""The desk's page: served as HTML with headers fit for a page that handles a key, its script and
stylesheet reachable under the URLs it names, and those URLs changing whenever the files do."""

from __future__ import annotations

import re
import shutil

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.api.routes import desk
from app.config import Settings

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # no data is read: one backend is enough


def linked(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#][^"]*)"', page)


def test_the_desk_is_a_page_that_no_other_site_may_frame(client):
    response = client.get("/desk")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # Revalidated on every load, so a new script is picked up at once.
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy  # nobody can frame the desk and click Accept for you
    assert "frame-src 'self'" in policy  # the widget beside the work is this service's own page
    assert response.headers["referrer-policy"] == "no-referrer"
    page = response.text
    assert '<label for="api-key">API key</label>' in page
    assert "<script>" not in page and " style=" not in page  # nothing inline: the policy allows none


def test_its_script_and_stylesheet_are_served_where_the_page_says(client):
    page = client.get("/desk").text
    assets = [url for url in linked(page) if url.startswith("static/")]
    assert sorted(url.split("?")[0] for url in assets) == ["static/desk/desk.css", "static/desk/desk.js"]
    # Relative to the page, so a proxy can serve the app under a prefix; nothing from elsewhere.
    assert all(not url.startswith(("/", "http:", "https:")) for url in linked(page)), linked(page)
    version = desk.asset_version()
    for url in assets:
        assert url.endswith(f"?v={version}")
        response = client.get(f"/{url}")
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        etag = response.headers["etag"]
        assert client.get(f"/{url}", headers={"If-None-Match": etag}).status_code == 304


def test_the_asset_urls_change_when_the_assets_do(client, tmp_path, monkeypatch):
    copy = tmp_path / "desk"
    shutil.copytree(desk.DESK_DIR, copy)
    monkeypatch.setattr(desk, "DESK_DIR", copy)
    before = client.get("/desk").text
    (copy / "desk.js").write_text((copy / "desk.js").read_text() + "\n// changed\n")
    after = client.get("/desk").text
    assert before != after
    assert desk.asset_version() in after


def test_the_page_needs_no_key_even_with_private_reads(database_url, engine):
    """It holds no data: the script asks for the key, and the API decides."""
    app = create_app(Settings(database_url=database_url, public_read=False, webhook_dispatcher=False), engine=engine)
    with TestClient(app) as client:
        assert client.get("/desk").status_code == 200
        assert client.get("/static/desk/desk.js").status_code == 200
        assert client.get("/v1/incidents").status_code == 401
