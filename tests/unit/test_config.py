"""Settings come from one declaration, are checked at start, and the README documents exactly them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings, variables

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_SETTINGS = {"TIMELINE_TEST_POSTGRES_URL", "TIMELINE_TEST_EXAMPLES"}  # the test harness's own, beside `make test`


def configuration_table() -> str:
    text = README.read_text()
    start = text.index("## Configuration")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_documents_every_setting_and_nothing_else():
    table = configuration_table()
    documented = set(re.findall(r"`(TIMELINE_[A-Z_]+)`", table))
    assert documented == set(variables()), (
        f"missing from the README: {sorted(set(variables()) - documented)}; "
        f"not settings: {sorted(documented - set(variables()))}"
    )
    elsewhere = set(re.findall(r"TIMELINE_[A-Z][A-Z_]*[A-Z]", README.read_text())) - NOT_SETTINGS
    assert elsewhere <= set(variables()), f"the README names unknown settings: {sorted(elsewhere - set(variables()))}"


def test_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIMELINE_WEBHOOK_TIMEOUT", "3.5")
    monkeypatch.setenv("TIMELINE_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("TIMELINE_PUBLIC_READ", "off")
    monkeypatch.setenv("TIMELINE_DURABILITY", " Fast ")
    settings = Settings.from_env()
    assert settings.webhook_timeout_seconds == 3.5
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.public_read is False and settings.durability == "fast"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TIMELINE_PUBLIC_READ", "maybe", "TIMELINE_PUBLIC_READ='maybe'"),
        ("TIMELINE_DURABILITY", "careful", "TIMELINE_DURABILITY='careful'"),
        ("TIMELINE_HEADER_TIMEOUT", "0", "greater than 0"),
        ("TIMELINE_WEBHOOK_CONCURRENCY", "many", "TIMELINE_WEBHOOK_CONCURRENCY"),
    ],
)
def test_a_bad_setting_is_refused_at_start_naming_the_variable(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(says)):
        Settings.from_env()


def test_an_empty_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("TIMELINE_WEBHOOK_POLL", "")
    assert Settings.from_env().webhook_poll_seconds == Settings().webhook_poll_seconds
