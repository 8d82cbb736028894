from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.main import build_app, wire

_built: dict[tuple, FastAPI] = {}


@pytest.fixture
def app(settings, engine) -> FastAPI:
    """The app on this test's fresh database. The routes, handlers and middleware are built once per
    test process for each set of the settings they are built from (FastAPI builds a route's
    dependencies and models on its first request, tens of milliseconds apiece) and wired anew to
    each test's database and state, so no test sees another's."""
    shape = (settings.max_body_bytes, settings.body_timeout_seconds, settings.cors_origins)
    if shape not in _built:
        _built[shape] = build_app(settings)
    app = _built[shape]
    wire(app, settings, engine)
    return app


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def writer(keys) -> dict[str, str]:
    _, secret = keys.create("newsdesk", frozenset({"write"}))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def reader(keys) -> dict[str, str]:
    _, secret = keys.create("analyst", frozenset({"read"}))
    return {"Authorization": f"Bearer {secret}"}


def assertion(assertion_id: str, occurred: str = "2026-01-24", **extra) -> dict:
    data = {
        "assertion_id": assertion_id,
        "kind": "shooting",
        "occurred": occurred,
        "headline": f"Headline {assertion_id}",
        "sources": [{"outlet": "FOX 9", "quote": "on Saturday, Jan. 24"}],
    }
    data.update(extra)
    return {"type": "AssertionRecorded", "data": data}


@pytest.fixture
def incident(client, writer) -> str:
    response = client.post(
        "/v1/incidents", json={"id": "alex-pretti-shooting", "title": "Shooting of Alex Pretti"}, headers=writer
    )
    assert response.status_code == 201, response.text
    return "alex-pretti-shooting"
