"""What the browser tests share: Debian's Chromium, how it is started here, the sample incidents,
and a collector of a page's console errors."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "events" / "samples" / "minneapolis-2026.ndjson"
INCIDENTS = ("renee-good-shooting", "alex-pretti-shooting", "dhs-body-camera-policy")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Console:
    """Console errors and uncaught exceptions of a page."""

    def __init__(self, page: "Page"):
        self.errors: list[tuple[str, str]] = []  # (text, the URL it is about)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append((f"uncaught: {error}", "")))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append((message.text, (message.location or {}).get("url", "")))

    def assert_clean(self, allow: tuple[str, ...] = (), allow_urls: tuple[str, ...] = ()) -> None:
        unexpected = [
            (text, url)
            for text, url in self.errors
            if not any(part in text for part in allow) and not (url and url.startswith(allow_urls))
        ]
        assert unexpected == [], unexpected
